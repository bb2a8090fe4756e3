"""The words that carry a question, and which of them the top passage covers (issue #14's answerability check).

BM25's confidence reads only words the articles use: query_terms sets aside everyday words the corpus
never has, so "what *exactly* is remedial massage" loses nothing over "exactly". That also set aside
the point of "should I drink water after a massage?": matched on "massage" alone, at confidence 1.00,
it was answered from a passage that never speaks of water. Here every content word of the turn counts
(stopwords and filler.txt's hedges, politeness and chat typing aside), a misspelt word as its
correction and a word our synonyms map as the articles' words it maps to. A word is covered by a
passage that has it (its text or visitor questions, stemmed, synonyms applied alike). The staff trace
shows each word and whether the top passage covers it. The gate does not read it: covering words by
meaning and two gate features of what is left were measured and gained nothing (docs/semantic.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from ..knowledge.text import data_lines

if TYPE_CHECKING:
    from .analysis import Term
    from .index import Index

EVERYDAY_FLOOR = 0.2  # the least an everyday word weighs in confidence: it may still be the point ("differ")


def everyday_share(index: Index, term: str, everyday: float) -> float:
    """The share of its IDF a term of the articles weighs with: less for their everyday words ("hands",
    "work"), which say less about what a question is about than the articles' own words do."""
    return min(1.0, max(EVERYDAY_FLOOR, index.keyness.get(term, everyday) / everyday))


@lru_cache(maxsize=1)
def filler() -> frozenset[str]:
    """Words that never say what a question is about (faqbot/data/filler.txt)."""
    return frozenset(w for line in data_lines("filler.txt") for w in line.split())


@dataclass
class Carrying:
    """One word that carries the question, with its index terms, its weight, and how it is covered."""

    word: str  # as the visitor meant it (spelling fixed); a synonym's lay phrase whole
    terms: tuple[str, ...]  # its index terms (a synonym's: the articles' words it maps to)
    weight: float  # how much it says what the question is about (IDF-like)
    covered: str = ""  # "by its words", or "" when the top passage does not cover it


def word_weight(index: Index, terms: tuple[str, ...], everyday: float, unseen: float) -> float:
    """A word weighs as its rarest term does in confidence(): IDF, less for the articles' everyday
    words ("hands", "work"); a word the articles never use weighs as a rare one would (unseen x the
    largest IDF): it may be what the question is about ("water", "acupuncture")."""
    seen = [t for t in terms if t in index]
    if not seen:
        return index.max_idf * unseen
    return max(index.idf(t) * everyday_share(index, t, everyday) for t in seen)


def carrying_words(analysed: list[Term], index: Index, everyday: float, unseen: float) -> list[Carrying]:
    """The words of a (spelling-corrected, analysed) turn that carry its question, in order, each once."""
    words: dict[str, list[str]] = {}
    skip = filler()
    for term in analysed:
        if term.surface in skip:
            continue
        terms = words.setdefault(term.surface, [])
        if term.stem not in terms:
            terms.append(term.stem)
    return [Carrying(w, tuple(ts), round(word_weight(index, tuple(ts), everyday, unseen), 4))
            for w, ts in words.items()]


def readable_share(words: list[Carrying], index: Index) -> float:
    """The share of a question's carrying weight in words the articles use: all BM25 can read of it.

    "will it help me chill out": BM25 reads "help" (0.15) and not "chill" (2.51), so its ranking, scaled
    to its best passage as if it had read the question, would outvote meaning's; the ranker gives it
    this share of its part instead (measured in docs/semantic.md)."""
    total = sum(w.weight for w in words)
    if total <= 0:
        return 1.0
    return sum(w.weight for w in words if any(t in index for t in w.terms)) / total


def cover_by_words(words: list[Carrying], index: Index, row: int) -> None:
    """Mark the words passage `row` has."""
    for w in words:
        if any(index.contribution(t, row) > 0 for t in w.terms):
            w.covered = "by its words"


def reason(words: list[Carrying]) -> str:
    """Say which carrying words the top passage leaves uncovered (for the trace)."""
    left = [f"'{w.word}'" for w in sorted(words, key=lambda w: -w.weight) if not w.covered]
    return f"the top passage does not cover {', '.join(left)}" if left else "the top passage covers every carrying word"
