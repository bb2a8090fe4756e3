"""Logistic regression by Newton's method: small, exact for our few thousand rows, and no new dependency."""
from __future__ import annotations

import numpy as np


def logistic_fit(X: np.ndarray, y: np.ndarray, l2: float, iterations: int = 30,
                 balanced: bool = False) -> tuple[np.ndarray, float]:
    """Fit weights and bias by Newton's method with an L2 penalty (not on the bias).

    balanced: each class weighs as much as the other in total, so a fit set with three answerable
    questions for every unanswerable one does not learn to answer everything.
    """
    Xb = np.hstack([X, np.ones((len(X), 1))])
    n_pos = max(y.sum(), 1.0)
    n_neg = max(len(y) - y.sum(), 1.0)
    sample = np.where(y == 1, len(y) / (2 * n_pos), len(y) / (2 * n_neg)) if balanced else np.ones(len(y))
    w = np.zeros(Xb.shape[1])
    penalty = l2 * np.r_[np.ones(X.shape[1]), 0.0]
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-np.clip(Xb @ w, -50, 50)))
        gradient = Xb.T @ (sample * (p - y)) + penalty * w
        hessian = (Xb * (sample * p * (1 - p))[:, None]).T @ Xb + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def probabilities(w: np.ndarray, b: float, X: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(X @ w + b, -50, 50)))
