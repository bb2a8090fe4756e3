"""BM25 index over passages (rank-bm25), scored term by term so traces can show why."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from rank_bm25 import BM25L, BM25Okapi, BM25Plus

from .analysis import Analyzer, tokenize
from .passages import Passage
from .spelling import english_frequency

# BM25Okapi gives terms in half or more of the passages zero or negative IDF on a small
# corpus (rank_bm25 #29, #39, #43); Plus and L keep every IDF positive.
VARIANTS = {"plus": BM25Plus, "l": BM25L, "okapi": BM25Okapi}


def make_bm25(variant: str, corpus: list[list[str]], k1: float, b: float, delta: float):
    """Build a rank-bm25 model of the named variant."""
    try:
        cls = VARIANTS[variant]
    except KeyError:
        raise ValueError(f"unknown BM25 variant {variant!r}; choose one of {sorted(VARIANTS)}") from None
    if cls is BM25Okapi:
        return cls(corpus, k1=k1, b=b)
    return cls(corpus, k1=k1, b=b, delta=delta)


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    contributions: dict[str, float] = field(default_factory=dict)  # term -> weighted score
    variant: float = 0.0  # how closely the query restates one of the passage's visitor questions


def passage_text_for_index(p: Passage, variant_boost: int = 1) -> str:
    """Gather what a passage is found by: title, heading, text and its visitor questions.

    Visitor questions are repeated: one matching phrasing is stronger evidence than the
    same words scattered through an article.
    """
    return " ".join([p.doc_title, p.heading or "", p.text, *(list(p.questions) * variant_boost)])


def keyness(vocabulary: Counter, analyzer: Analyzer) -> dict[str, float]:
    """Score each term by how much more often the corpus uses it than everyday English does.

    "sciatica" scores in the thousands, "recommend" or "place" near 1: a passage matched
    only on such everyday words is no evidence the question is about the corpus's topic.
    """
    total = sum(vocabulary.values())
    counts: Counter = Counter()
    english: dict[str, float] = {}
    for word, n in vocabulary.items():
        for term in analyzer.analyze(word):
            counts[term] += n
            # The corpus may only use a rare form ("fixing"); everyday English uses "fix".
            forms = [word] + [term + end for end in ("", "e", "s", "ed", "ing", "y")]
            english[term] = max([english.get(term, 0.0)] + [english_frequency(f) for f in forms])
    return {t: (n / total) / max(english[t], 1e-8) for t, n in counts.items()}


class Index:
    """Score passages for weighted query terms."""

    def __init__(self, passages: list[Passage], analyzer: Analyzer, variant: str = "plus",
                 k1: float = 1.2, b: float = 0.75, delta: float = 1.0, variant_boost: int = 1, variant_weight: float = 2.0):
        if not passages:
            raise ValueError("cannot index an empty list of passages")
        self.passages = passages
        self.analyzer = analyzer
        self.variant = variant
        texts = [passage_text_for_index(p, variant_boost) for p in passages]
        self.doc_terms = [analyzer.analyze(t) for t in texts]
        self.bm25 = make_bm25(variant, self.doc_terms, k1, b, delta)
        self.k1, self.delta = k1, delta
        self.term_df = Counter(t for terms in self.doc_terms for t in set(terms))
        # Surface words the speller may correct towards, with their frequencies.
        self.vocabulary = Counter(w for t in texts for w in tokenize(t))
        self._cache: dict[str, np.ndarray] = {}
        self.max_idf = max(self.bm25.idf.values())
        self.variant_weight = variant_weight
        # From the articles alone: our own visitor questions would make "recommend" look topical.
        self.keyness = keyness(Counter(w for p in passages for w in tokenize(p.text)), analyzer)
        self.variants = [[frozenset(analyzer.analyze(q)) for q in p.questions] for p in passages]

    def __len__(self) -> int:
        return len(self.passages)

    def idf(self, term: str) -> float:
        """IDF of a term; unseen terms get the largest IDF (they are the most specific)."""
        return float(self.bm25.idf.get(term, self.max_idf))

    def __contains__(self, term: str) -> bool:
        return term in self.term_df

    def _baseline(self, term: str) -> float:
        """Score a passage without the term still gets from the Plus/L lower bound."""
        idf = self.bm25.idf.get(term, 0.0)
        if self.variant == "plus":
            return idf * self.delta
        if self.variant == "l":
            return idf * (self.k1 + 1) * self.delta / (self.k1 + self.delta)
        return 0.0

    def term_scores(self, term: str) -> np.ndarray:
        """Score every passage for one term, zero where the term is absent."""
        cached = self._cache.get(term)
        if cached is None:
            if term in self.term_df:
                cached = self.bm25.get_scores([term]) - self._baseline(term)
                cached = np.clip(cached, 0.0, None)
            else:
                cached = np.zeros(len(self.passages))
            if len(self._cache) < 50000:
                self._cache[term] = cached
        return cached

    def variant_similarity(self, weights: dict[str, float], i: int) -> float:
        """IDF-weighted Jaccard between the query and passage i's closest visitor question."""
        query = {t for t, w in weights.items() if w >= 1.0}  # the question's own terms only
        best = 0.0
        for terms in self.variants[i]:
            union = sum(self.idf(t) for t in query | terms)
            if union:
                best = max(best, sum(self.idf(t) for t in query & terms) / union)
        return best

    def search(self, weights: dict[str, float], k: int = 3, candidates: int = 50) -> list[Hit]:
        """Return the k best passages for weighted terms, best first, with per-term scores.

        BM25 picks the candidates; a query that restates a passage's visitor question
        multiplies that passage's score by up to (1 + variant_weight).
        """
        if not weights:
            return []
        per_term = {t: self.term_scores(t) * w for t, w in weights.items()}
        total = np.sum(list(per_term.values()), axis=0)
        pool = [int(i) for i in np.argsort(-total, kind="stable")[:candidates] if total[i] > 0]
        sims = {i: self.variant_similarity(weights, i) for i in pool}
        final = {i: float(total[i]) * (1 + self.variant_weight * sims[i]) for i in pool}
        order = sorted(pool, key=lambda i: -final[i])[:k]
        return [
            Hit(self.passages[i], final[i],
                {t: round(float(s[i]), 4) for t, s in per_term.items() if s[i] > 0}, round(sims[i], 4))
            for i in order
        ]
