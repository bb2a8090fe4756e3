"""Fit the small-talk model (`faqbot fit`): is a message small talk, read by meaning.

The nearest example closer than any passage by a margin (the method before this one) had to set
its margin above every question of the fit files, and then caught 71 of the 149 small-talk
messages of a blind set written for it ("much obliged", "you've been a star", "gtg ttyl").
A logistic model over the message's vector and its nearness to the examples and passages
(understanding.smalltalk_features) learns what small talk is about rather than how near one
example must be: every fit file's small talk and the shipped examples against every other kind
of message in them (questions, clinic topics, red flags and their harmless lookalikes). Its
threshold takes at most QUANTILE's share of the fit negatives; how it does on messages it was not
fitted on is measured holding out one file at a time and stored with it.
"""
from __future__ import annotations

import numpy as np

from ..answering.understanding import smalltalk_features
from .logistic import logistic_fit, probabilities

L2 = 1.0
QUANTILE = 0.998  # the threshold: above this share of the fit negatives' probabilities


def rows(bot, files: dict[str, list[dict]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels (small talk or not) and file of each case's last message, then the shipped examples."""
    u = bot.understanding
    X, y, group = [], [], []
    for name, cases in files.items():
        for case in cases:
            message = case["turns"][-1] if "turns" in case else case["q"]
            vec = u.meaning.query(message)
            X.append(smalltalk_features(vec, u.smalltalk.nearest(vec).similarity,
                                        float(u.index.similarities(vec).max()), len(message.split())))
            y.append(case["kind"] == "smalltalk")
            group.append(name)
    bank = u.smalltalk
    for i, (text, vec) in enumerate(zip(bank.texts, bank.vectors)):
        others = np.delete(bank.vectors @ vec, i)  # an example's nearest is another one, not itself
        X.append(smalltalk_features(vec, float(others.max()), float(u.index.similarities(vec).max()),
                                    len(text.split())))
        y.append(True)
        group.append("")  # always fitted on
    return np.array(X), np.array(y), np.array(group)


def fit(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float]:
    w, b = logistic_fit(X, y.astype(float), L2, balanced=True)
    negatives = np.sort(probabilities(w, b, X[~y]))
    return w, b, float(negatives[min(int(len(negatives) * QUANTILE), len(negatives) - 1)])


def fit_smalltalk(bot, files: dict[str, list[dict]]) -> dict:
    """Fit the model on the named files' cases (never a set kept for scoring)."""
    X, y, group = rows(bot, files)
    w, b, threshold = fit(X, y)
    found = missed = false = negatives = 0
    for name in files:  # held out one file at a time: the files with small talk in them
        held = group == name
        if not (held & y).any():
            continue
        hw, hb, ht = fit(X[~held], y[~held])
        taken = probabilities(hw, hb, X[held]) >= ht
        found += int((taken & y[held]).sum())
        missed += int((~taken & y[held]).sum())
        false += int((taken & ~y[held]).sum())
        negatives += int((~y[held]).sum())
    return {"method": "logistic regression", "l2": L2, "weights": [round(float(v), 6) for v in w],
            "bias": round(b, 6), "threshold": round(threshold, 6),
            "fitted_cases": {"small_talk": int(y.sum()), "other": int((~y).sum())},
            "cross_validated": {"held_out": "one file at a time (files with small talk)",
                                "small_talk_found": round(found / max(found + missed, 1), 4),
                                "others_taken": round(false / max(negatives, 1), 4)}}
