"""BM25 variants as small pure functions over arrays, matching rank-bm25's formulas exactly.

Each variant gives IDF from document frequencies, the score a passage gets for a term it
contains (tf > 0), and the constant every passage gets for a term it lacks (Plus and L
have one; it shifts all scores equally, so ranking ignores it).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Params(NamedTuple):
    k1: float = 1.2
    b: float = 0.75
    delta: float = 1.0
    epsilon: float = 0.25  # Okapi's IDF floor, as a share of the mean IDF


def idf_plus(df: np.ndarray, n: int, p: Params) -> np.ndarray:
    return np.log((n + 1) / df)


def idf_l(df: np.ndarray, n: int, p: Params) -> np.ndarray:
    return np.log(n + 1) - np.log(df + 0.5)


def idf_okapi(df: np.ndarray, n: int, p: Params) -> np.ndarray:
    # Terms in half or more of the passages get a negative IDF, floored at a sliver of the
    # mean: the reason we do not serve with Okapi (rank_bm25 #29, #39, #43).
    idf = np.log(n - df + 0.5) - np.log(df + 0.5)
    return np.where(idf < 0, p.epsilon * idf.mean(), idf)


def tf_plus(tf: np.ndarray, norm: np.ndarray, p: Params) -> np.ndarray:
    return tf * (p.k1 + 1) / (p.k1 * norm + tf)


def tf_l(tf: np.ndarray, norm: np.ndarray, p: Params) -> np.ndarray:
    # rank-bm25 multiplies Lv & Zhai's BM25L term by tf (so an absent term scores 0); we
    # match the reference rather than the paper.
    ctd = tf / norm
    return tf * (p.k1 + 1) * (ctd + p.delta) / (p.k1 + ctd + p.delta)


def tf_okapi(tf: np.ndarray, norm: np.ndarray, p: Params) -> np.ndarray:
    return tf * (p.k1 + 1) / (tf + p.k1 * norm)


def absent_plus(p: Params) -> float:
    return p.delta


def absent_l(p: Params) -> float:
    return 0.0


def absent_okapi(p: Params) -> float:
    return 0.0


class Variant(NamedTuple):
    idf: object
    tf: object  # score per unit IDF of a term present tf times, beyond the absent constant
    absent: object  # score per unit IDF of a term a passage lacks


VARIANTS = {
    "plus": Variant(idf_plus, tf_plus, absent_plus),
    "l": Variant(idf_l, tf_l, absent_l),
    "okapi": Variant(idf_okapi, tf_okapi, absent_okapi),
}


def variant(name: str) -> Variant:
    """Return the named BM25 variant, or raise ValueError listing the valid names."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown BM25 variant {name!r}; choose one of {sorted(VARIANTS)}") from None


def length_norm(doc_len: np.ndarray, p: Params) -> np.ndarray:
    """Return BM25's document-length normaliser 1 - b + b * len / average len."""
    return 1 - p.b + p.b * doc_len / doc_len.mean()
