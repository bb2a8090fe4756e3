"""The BM25 index: a precomputed sparse term-by-passage weight matrix, explainable per term.

rank-bm25 loops in Python over every passage for every query term (140 ms a query at
100,000 passages). We precompute each (term, passage) score once into a scipy CSR matrix,
so a query touches only the passages that contain its terms. `tests/test_index.py` checks
rankings and scores against rank-bm25, which stays the reference implementation.
"""
from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix

from . import scoring
from .analysis import Analyzer, tokenize
from .passages import Passage
from .spelling import english_frequency


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    contributions: dict[str, float] = field(default_factory=dict)  # term -> weighted score
    variant: float = 0.0  # how closely the query restates one of the passage's visitor questions


def keyness(vocabulary: Counter, analyzer: Analyzer) -> dict[str, float]:
    """Score each term by how much more often the corpus uses it than everyday English does.

    "sciatica" scores in the thousands, "recommend" or "place" near 1: a passage matched
    only on such everyday words is no evidence the question is about the corpus's topic.
    """
    total = sum(vocabulary.values())
    counts: Counter = Counter()
    english: dict[str, float] = {}
    for word, n in vocabulary.items():
        for term in analyzer.analyze_tokens([word]):
            counts[term] += n
            english[term] = max(english.get(term, 0.0), english_frequency(word))
    for term in counts:
        # The corpus may only use a rare form ("fixing"); everyday English uses "fix".
        forms = (term + end for end in ("", "e", "s", "ed", "ing", "y"))
        english[term] = max(english[term], *(english_frequency(f) for f in forms))
    return {t: (n / total) / max(english[t], 1e-8) for t, n in counts.items()}


class Index:
    """Score passages for weighted query terms."""

    def __init__(self, passages: list[Passage], analyzer: Analyzer, variant: str = "plus",
                 k1: float = 1.2, b: float = 0.75, delta: float = 1.0, variant_boost: int = 1,
                 variant_weight: float = 2.0):
        if not passages:
            raise ValueError("cannot index an empty list of passages")
        kind = scoring.variant(variant)
        self.params = scoring.Params(k1, b, delta)
        self.passages = passages
        self.analyzer = analyzer
        self.variant = variant
        self.variant_weight = variant_weight
        # All passages' terms in one flat list, numbered by numpy: at 100,000 passages there
        # are millions, too many for a Python loop or a Counter per passage.
        flat: list[str] = []
        doc_len = np.empty(len(passages))
        article_words: Counter = Counter()
        question_words: Counter = Counter()
        for j, p in enumerate(passages):
            words = tokenize(" ".join([p.doc_title, p.heading or "", p.text]))
            asked = tokenize(" ".join(p.questions)) if p.questions else []
            # Counted per passage so each token string dies here: keeping millions of
            # them for one big count measured 360 MB at 100,000 passages.
            article_words.update(words)
            question_words.update(asked)
            terms = analyzer.analyze_tokens(words + asked * variant_boost)
            doc_len[j] = len(terms)
            flat.extend(terms)
        first: dict[str, int] = {}
        # setdefault through map() numbers each term by its first position without a Python
        # frame per term; a running count of first occurrences then makes the numbers dense
        # (no sort: this is six million terms at 100,000 passages).
        positions = np.fromiter(map(first.setdefault, flat, itertools.count()), np.int64, count=len(flat))
        is_first = positions == np.arange(len(flat))
        ids = (np.cumsum(is_first) - 1)[positions]
        self.terms: dict[str, int] = {flat[int(i)]: k for k, i in enumerate(np.flatnonzero(is_first))}
        del flat, positions, first, is_first
        docs = np.repeat(np.arange(len(passages), dtype=np.int32), doc_len.astype(np.int64))
        # scipy sums the duplicate (term, passage) pairs into term frequencies in C.
        tf = csr_matrix((np.ones(len(ids), np.float64), (ids, docs)), shape=(len(self.terms), len(passages)))
        tf.sum_duplicates()
        rows_np = np.repeat(np.arange(len(self.terms)), np.diff(tf.indptr))
        self.df = np.diff(tf.indptr).astype(np.float64)
        self.idf_values = kind.idf(self.df, len(passages), self.params)
        norm = scoring.length_norm(doc_len, self.params) if doc_len.any() else np.ones(len(passages))
        tf.data = self.idf_values[rows_np] * kind.tf(tf.data, norm[tf.indices], self.params)
        self.matrix = tf  # now each stored value is that term's BM25 score in that passage
        self.matrix.sort_indices()  # postings() binary-searches each row
        self.absent = self.idf_values * kind.absent(self.params)  # what rank-bm25 adds for a missing term
        self.max_idf = float(self.idf_values.max()) if len(self.idf_values) else 1.0
        # Surface words the speller may correct towards, with their frequencies.
        self.vocabulary = article_words + question_words
        # From the articles alone: our own visitor questions would make "recommend" look topical.
        self.keyness = keyness(article_words, analyzer)
        self.variants = [[frozenset(analyzer.analyze(q)) for q in p.questions] for p in passages]
        self._by_doc: dict[str, list[Passage]] = {}
        for p in passages:
            self._by_doc.setdefault(p.doc_id, []).append(p)

    def __len__(self) -> int:
        return len(self.passages)

    def __contains__(self, term: str) -> bool:
        return term in self.terms

    def document(self, doc_id: str) -> list[Passage]:
        """Return a document's passages in order."""
        return self._by_doc.get(doc_id, [])

    def idf(self, term: str) -> float:
        """IDF of a term; unseen terms get the largest IDF (they are the most specific)."""
        row = self.terms.get(term)
        return self.max_idf if row is None else float(self.idf_values[row])

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Return the passages containing a term and the term's score in each."""
        row = self.terms.get(term)
        if row is None:
            return np.empty(0, np.int32), np.empty(0)
        start, end = self.matrix.indptr[row], self.matrix.indptr[row + 1]
        return self.matrix.indices[start:end], self.matrix.data[start:end]

    def scores(self, weights: dict[str, float]) -> np.ndarray:
        """Score every passage: the sum of weighted term scores (zero for absent terms)."""
        total = np.zeros(len(self.passages))
        for term, w in weights.items():
            docs, values = self.postings(term)
            total[docs] += values * w
        return total

    def reference_scores(self, terms: list[str]) -> np.ndarray:
        """Score as rank-bm25's get_scores does, absent-term constants included."""
        base = sum(float(self.absent[self.terms[t]]) for t in terms if t in self.terms)
        return self.scores(dict(Counter(terms))) + base

    def contribution(self, term: str, doc: int) -> float:
        """Return one term's score in one passage."""
        docs, values = self.postings(term)
        i = np.searchsorted(docs, doc)
        return float(values[i]) if i < len(docs) and docs[i] == doc else 0.0

    def variant_similarity(self, weights: dict[str, float], i: int) -> float:
        """IDF-weighted Jaccard between the query and passage i's closest visitor question."""
        query = {t for t, w in weights.items() if w >= 1.0}  # the question's own terms only
        best = 0.0
        for terms in self.variants[i]:
            union = sum(self.idf(t) for t in query | terms)
            if union:
                best = max(best, sum(self.idf(t) for t in query & terms) / union)
        return best

    def search(self, weights: dict[str, float], k: int = 3, candidates: int = 20) -> list[Hit]:
        """Return the k best passages for weighted terms, best first, with per-term scores.

        BM25 picks the candidates; a query that restates a passage's visitor question
        multiplies that passage's score by up to (1 + variant_weight).
        """
        if not weights:
            return []
        total = self.scores(weights)
        n = min(candidates, len(total))
        top = np.argpartition(-total, n - 1)[:n] if n < len(total) else np.arange(len(total))
        pool = [int(i) for i in top[np.lexsort((top, -total[top]))] if total[i] > 0]
        sims = {i: self.variant_similarity(weights, i) for i in pool}
        final = {i: float(total[i]) * (1 + self.variant_weight * sims[i]) for i in pool}
        order = sorted(pool, key=lambda i: -final[i])[:k]
        hits = []
        for i in order:
            contributions = {t: round(self.contribution(t, i) * w, 4) for t, w in weights.items()}
            hits.append(Hit(self.passages[i], final[i], {t: c for t, c in contributions.items() if c > 0},
                            round(sims[i], 4)))
        return hits
