"""The BM25 index: a precomputed sparse term-by-passage weight matrix, explainable per term.

rank-bm25 loops in Python over every passage for every query term (140 ms a query at
100,000 passages). We precompute each (term, passage) score once into a scipy CSR matrix,
so a query touches only the passages that contain its terms. `tests/test_index.py` checks
rankings and scores against rank-bm25, which stays the reference implementation.
"""
from __future__ import annotations

import ctypes
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix

from . import scoring
from .analysis import Analyzer
from ..knowledge.text import tokenize
from ..knowledge.passages import Passage, by_document
from .spelling import english_words


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
    for (word, n), freq in zip(vocabulary.items(), english_words().frequencies(list(vocabulary)).tolist()):
        for term in analyzer.analyze_tokens([word]):
            counts[term] += n
            english[term] = max(english.get(term, 0.0), freq)
    # The corpus may only use a rare form ("fixing"); everyday English uses "fix".
    ends = ("", "e", "s", "ed", "ing", "y")
    forms = english_words().frequencies([term + end for term in counts for end in ends]).reshape(-1, len(ends))
    for term, best in zip(counts, forms.max(axis=1).tolist()):
        english[term] = max(english[term], best)
    return {t: (n / total) / max(english[t], 1e-8) for t, n in counts.items()}


def word_counts(words: list[str], ids: np.ndarray, positions: np.ndarray) -> Counter:
    """Count words[ids[positions]], keyed in order of first occurrence (as Counter.update would)."""
    chosen = ids[positions]
    first = np.full(len(words), len(ids), np.int64)
    np.minimum.at(first, chosen, positions)
    n = np.bincount(chosen, minlength=len(words))
    return Counter({words[w]: int(n[w]) for w in np.argsort(first, kind="stable")[: np.count_nonzero(n)].tolist()})


def release_free_memory() -> None:
    """Give the pages the C heap holds free back to the OS (glibc's malloc_trim; elsewhere nothing).

    Building a large index allocates and frees a few hundred MB of numpy temporaries, and glibc
    keeps much of it in the heap: at 100,000 passages about 90 MB that would stay in the
    process's RSS, and in that of every worker forked from it.
    """
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return
    trim(0)


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
        # Each passage is its title, heading and text, then its visitor questions variant_boost
        # times; the analyzer takes them all at once (at 100,000 passages there are six million
        # tokens, too many for a Python loop over them).
        asks = [" ".join(p.questions) if p.questions else None for p in passages]
        boost = max(variant_boost, 0)
        batch = analyzer.analyze_batch(
            (" ".join([p.doc_title, p.heading or "", p.text]),) + ((q,) * boost if q else ())
            for p, q in zip(passages, asks))
        term_ids, seqs, words, word_ids = batch.term_ids, batch.seqs, batch.words, batch.word_ids
        # How many tokens each passage's text has, and its visitor questions (once).
        texts_per = np.array([1 + (boost if q else 0) for q in asks], np.int64)
        first_text = np.cumsum(texts_per) - texts_per
        article_len = batch.lengths[first_text]
        asked_len = np.zeros(len(passages), np.int64)
        has_asked = texts_per > 1
        asked_len[has_asked] = batch.lengths[first_text[has_asked] + 1]
        n_docs, n_terms = len(passages), len(batch.terms)
        self.terms: dict[str, int] = {t: i for i, t in enumerate(batch.terms)}
        del batch
        doc_len = np.bincount(seqs, minlength=n_docs).astype(np.float64)
        # scipy sums the duplicate (term, passage) pairs into term frequencies in C.
        tf = csr_matrix((np.ones(len(term_ids), np.int32), (term_ids, seqs)), shape=(n_terms, n_docs))
        del term_ids, seqs
        tf.sum_duplicates()
        per_term = np.diff(tf.indptr)
        self.df = per_term.astype(np.float64)
        self.idf_values = kind.idf(self.df, n_docs, self.params)
        norm = scoring.length_norm(doc_len, self.params) if doc_len.any() else np.ones(n_docs)
        tf.data = np.repeat(self.idf_values, per_term) * kind.tf(tf.data.astype(np.float64), norm[tf.indices],
                                                                 self.params)
        del norm
        self.matrix = tf  # now each stored value is that term's BM25 score in that passage
        self.matrix.sort_indices()  # already sorted (checked): postings() binary-searches each row
        self.absent = self.idf_values * kind.absent(self.params)  # what rank-bm25 adds for a missing term
        self.max_idf = float(self.idf_values.max()) if len(self.idf_values) else 1.0
        # Surface words the speller may correct towards, with their frequencies: a passage's
        # first article_len tokens are its text's, the next asked_len its visitor questions'.
        lens = article_len + asked_len * boost
        offset = np.arange(len(word_ids)) - np.repeat(np.cumsum(lens) - lens, lens)
        in_article = offset < np.repeat(article_len, lens)
        article_words = word_counts(words, word_ids, np.flatnonzero(in_article))
        if boost and asked_len.any():
            in_asked = ~in_article & (offset < np.repeat(article_len + asked_len, lens))
            question_words = word_counts(words, word_ids, np.flatnonzero(in_asked))
        else:  # not indexed, still words the visitors use
            question_words = Counter(t for q in asks if q for t in tokenize(q))
        del words, word_ids, offset, in_article
        self.vocabulary = article_words + question_words
        # From the articles alone: our own visitor questions would make "recommend" look topical.
        self.keyness = keyness(article_words, analyzer)
        # Each visitor question's IDF sum, and for each term the questions that hold it: a query
        # then only visits the questions it shares a term with.
        self.asked_sums: list[float] = []
        self.asked_by: list[int] = []  # question number -> passage number
        self.asked: dict[str, list[int]] = {}  # term -> question numbers
        for i, p in enumerate(passages):
            for terms in (frozenset(analyzer.analyze(q)) for q in p.questions):
                for t in terms:
                    self.asked.setdefault(t, []).append(len(self.asked_sums))
                self.asked_sums.append(sum(self.idf(t) for t in terms))
                self.asked_by.append(i)
        self._by_doc = by_document(passages)
        release_free_memory()

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

    def variant_similarities(self, weights: dict[str, float], pool: list[int]) -> dict[int, float]:
        """IDF-weighted Jaccard between the query and each pooled passage's closest visitor question."""
        # |A ∪ B| = |A| + |B| - |A ∩ B| with IDF weights: the query's sum once, each visitor
        # question's sum precomputed, so only the intersections are summed, per shared term.
        # A follow-up's borrowed terms count too: "is that something you can treat?" after "I get
        # migraines" restates "can it help migraines?".
        query = {t: self.idf(t) for t, w in weights.items() if w > 0}
        query_sum = sum(query.values())
        wanted = set(pool)
        shared: dict[int, float] = {}
        for t, idf in query.items():
            for q in self.asked.get(t, ()):
                if self.asked_by[q] in wanted:
                    shared[q] = shared.get(q, 0.0) + idf
        out = dict.fromkeys(pool, 0.0)
        for q, common in shared.items():
            i, union = self.asked_by[q], query_sum + self.asked_sums[q] - common
            if union > 0:  # all-zero IDFs (Okapi's floor on a tiny index) share nothing
                out[i] = max(out[i], common / union)
        return out

    def ranked(self, weights: dict[str, float], candidates: int = 20) -> tuple[dict[int, float], dict[int, float]]:
        """Return BM25's candidates (passage number -> final score) and their visitor-question similarity.

        BM25 picks the candidates; a query that restates a passage's visitor question
        multiplies that passage's score by up to (1 + variant_weight).
        """
        if not weights:
            return {}, {}
        total = self.scores(weights)
        n = min(candidates, len(total))
        top = np.argpartition(-total, n - 1)[:n] if n < len(total) else np.arange(len(total))
        pool = [int(i) for i in top[np.lexsort((top, -total[top]))] if total[i] > 0]
        sims = self.variant_similarities(weights, pool)
        return {i: float(total[i]) * (1 + self.variant_weight * sims[i]) for i in pool}, sims

    def hit(self, i: int, weights: dict[str, float], score: float, variant: float) -> Hit:
        """Describe passage i as a hit, with each query term's contribution (for traces)."""
        contributions = {t: round(self.contribution(t, i) * w, 4) for t, w in weights.items()}
        return Hit(self.passages[i], score, {t: c for t, c in contributions.items() if c > 0}, round(variant, 4))

    def search(self, weights: dict[str, float], k: int = 3, candidates: int = 20) -> list[Hit]:
        """Return the k best passages for weighted terms by BM25 alone, best first, with per-term scores."""
        final, sims = self.ranked(weights, candidates)
        order = sorted(final, key=lambda i: -final[i])[:k]
        return [self.hit(i, weights, final[i], sims[i]) for i in order]
