"""Ranking: BM25's candidates fused with meaning (the message's similarity to each passage)."""
from __future__ import annotations

import numpy as np

from ..config import Settings
from .analysis import Analyzer
from .index import Hit, Index
from .understanding import Understanding, fuse

CANDIDATES = 50  # BM25's candidates fused with meaning (every passage of a small corpus)
DENSE_ALL = 2000  # passages up to which meaning compares a message with every passage


class Retriever:
    """Rank passages for weighted terms and a message vector."""

    def __init__(self, settings: Settings, index: Index, analyzer: Analyzer, understanding: Understanding | None):
        self.settings, self.index, self.analyzer, self.understanding = settings, index, analyzer, understanding

    def similarities(self, vec, query: str | dict[str, float]) -> np.ndarray:
        """Meaning's similarity to every passage; in a large library, to BM25's candidates only (others -1).

        An exact pass costs about 0.25 ms per 1,000 passages here; past DENSE_ALL, the passages
        that share no word with the message (query: its text, or its weighted terms) are not compared.
        """
        u = self.understanding
        if len(self.index) <= DENSE_ALL:
            return u.index.similarities(vec)
        weights = {t: 1.0 for t in self.analyzer.analyze(query)} if isinstance(query, str) else query
        final, _ = self.index.ranked(weights, candidates=CANDIDATES)
        return u.index.similarities(vec, np.fromiter(final, np.int64, len(final)))

    def search(self, weights: dict[str, float], sims, lexical_share: float = 1.0) -> list[Hit]:
        """Rank passages by BM25, fused with meaning when the model is loaded.

        lexical_share: how much of the question BM25 can read at all (the weight of its carrying words
        the articles use); BM25's part of the mix shrinks with it."""
        s = self.settings
        if sims is None:
            return self.index.search(weights, k=s.TOP_K)
        final, variant = self.index.ranked(weights, candidates=CANDIDATES)
        lexical = np.zeros(len(self.index))
        lexical[list(final)] = list(final.values())
        fused = fuse(lexical, sims, s.SEMANTIC_WEIGHT, lexical_share)
        order = np.argsort(-fused, kind="stable")[: s.TOP_K]
        return [self.index.hit(int(i), weights, float(fused[i]), variant.get(int(i), 0.0)) for i in order]
