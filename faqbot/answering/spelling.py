"""Correct misspelt query words against the corpus vocabulary, leaving real words alone."""
from __future__ import annotations

import gzip
import json
from collections import Counter
from functools import lru_cache
from importlib import resources

import numpy as np


class EnglishWords:
    """pyspellchecker's English word list (160,000 words and their counts), held compactly.

    We only ask "is this an English word?" and "how common is it?", so each word is kept as
    its 64-bit hash in one sorted numpy array beside its count: 2.6 MB instead of the 38 MB
    a SpellChecker holds. Two words sharing a hash is about as likely as one in 10^14 lookups
    answering wrongly. The hashes are Python's own, so the arrays are built in each process
    (gunicorn's preloading master builds them once for all its workers) and never stored.
    """

    def __init__(self, counts: dict[str, int]):
        hashes = np.fromiter(map(hash, counts), np.int64, count=len(counts))
        order = np.argsort(hashes)
        self._hashes = hashes[order]
        self._counts = np.fromiter(counts.values(), np.int64, count=len(counts))[order]
        self.total = int(self._counts.sum())

    def count(self, word: str) -> int:
        """How many times the word occurs in the list's source text (0 when unknown)."""
        h = hash(word)
        i = int(self._hashes.searchsorted(h))
        return int(self._counts[i]) if i < len(self._hashes) and self._hashes[i] == h else 0

    def frequencies(self, words: list[str]) -> np.ndarray:
        """The usage frequency of each word at once (0.0 when unknown)."""
        h = np.fromiter(map(hash, words), np.int64, count=len(words))
        i = np.minimum(self._hashes.searchsorted(h), len(self._hashes) - 1)
        return np.where(self._hashes[i] == h, self._counts[i], 0) / self.total

    def __contains__(self, word: str) -> bool:
        return self.count(word.lower()) > 0  # SpellChecker's membership ignores case, too


def _word_counts() -> dict[str, int]:
    """Read the list pyspellchecker ships, without building a SpellChecker around it."""
    try:
        raw = resources.files("spellchecker").joinpath("resources", "en.json.gz").read_bytes()
        return json.loads(gzip.decompress(raw))
    except (OSError, ValueError):  # packaged differently: ask pyspellchecker itself
        from spellchecker import SpellChecker

        return dict(SpellChecker(distance=1).word_frequency.dictionary)


@lru_cache(maxsize=1)
def english_words() -> EnglishWords:
    """Load the English word list that tells a real word from a typo (shipped with pyspellchecker)."""
    return EnglishWords(_word_counts())


def english_frequency(word: str) -> float:
    """Return how often a word is used in general English (0.0 when unknown)."""
    words = english_words()
    return words.count(word) / words.total


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, giving up above limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


class Speller:
    """Map an unknown query word to the nearest corpus word."""

    def __init__(self, vocabulary: Counter, extra_known: set[str] = frozenset()):
        self.vocabulary = vocabulary
        self.known = set(vocabulary) | set(extra_known)
        # Least recently used words go first: visitors repeat their typos, and a long-running worker
        # meets names and junk that must not stop the common typos from being cached.
        self._cached = lru_cache(maxsize=10_000)(self._nearest)
        # Candidates share the typo's first letter (people rarely mistype it) and a length
        # within the allowance: a large library's vocabulary is then searched in milliseconds.
        self._buckets: dict[tuple[str, int], list[str]] = {}
        for word in vocabulary:
            if word.isalpha():
                self._buckets.setdefault((word[0], len(word)), []).append(word)

    @staticmethod
    def allowance(word: str) -> int:
        """Allow one edit in short words and two in long ones; none in very short ones."""
        return 0 if len(word) < 4 else 1 if len(word) < 8 else 2

    def correct(self, word: str) -> str:
        """Return the corrected word, or the word itself when it is known or nothing is close."""
        return self._cached(word)[0]

    def nearest(self, word: str) -> tuple[str, ...]:
        """The corrections as near as the best one, commonest first (the word itself when known or none is)."""
        return self._cached(word)

    def _nearest(self, word: str) -> tuple[str, ...]:
        limit = self.allowance(word)
        if limit == 0 or not word.isalpha() or word in self.known or word in english_words():
            return (word,)
        found: list[tuple[int, int, str]] = []
        for n in range(len(word) - limit, len(word) + limit + 1):
            for cand in self._buckets.get((word[0], n), ()):
                d = edit_distance(word, cand, limit)
                if d <= limit:
                    found.append((d, -self.vocabulary[cand], cand))
        if not found:
            return (word,)
        best = min(d for d, _, _ in found)
        return tuple(cand for _, _, cand in sorted((f for f in found if f[0] == best), key=lambda f: f[1]))  # stable


RARE_WORD, TYPO_RATIO = 100, 1000  # a rare English word, and how much commoner its one-edit neighbour must be


class RedFlagSpeller(Speller):
    """A speller over the words of the red-team bank (red flags and lookalikes alike, as the rules read
    them): "cheast pain and sweting", "worst hedache of my life" are read as they were meant. Only a
    word that is no English word, or a very rare one, is changed: to the nearest bank word with its
    first letter, within one edit (two from eight letters), the commonest among equally near ones; so
    the rules and concepts need no typos of their own."""

    @staticmethod
    def allowance(word: str) -> int:
        """One edit from three letters on: "kil myself" (the articles' speller waits for four)."""
        return 0 if len(word) < 3 else 1 if len(word) < 8 else 2

    def _nearest(self, word: str) -> tuple[str, ...]:
        found = super()._nearest(word)
        if found != (word,) or word in self.known or len(word) < 4 or not word.isalpha():
            return found
        # A typo that happens to be a very rare English word ("strong pein in the chest": "pein", a
        # hammer's end) is read as the bank word one edit away that English uses a thousand times as often.
        words = english_words()
        count = words.count(word)
        if not 0 < count <= RARE_WORD:
            return found
        near = [(-self.vocabulary[c], c) for n in (len(word) - 1, len(word), len(word) + 1)
                for c in self._buckets.get((word[0], n), ())
                if words.count(c) >= TYPO_RATIO * count and edit_distance(word, c, 1) <= 1]
        return tuple(c for _, c in sorted(near)) or found
