"""One analyzer for documents and queries: normalise, tokenise, synonyms, stopwords, stem."""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .batch import Batch, _BatchTables, _ragged, pieces
from ..knowledge.text import data_lines, import_nltk, tokenize

import_nltk()
from nltk.stem.snowball import SnowballStemmer  # noqa: E402  (after import_nltk, which keeps scipy.stats out)


@dataclass(frozen=True)
class Term:
    """An analysed term and the surface word it came from (for traces)."""

    stem: str
    surface: str


class Analyzer:
    """Turn text into index terms the same way for passages and questions."""

    def __init__(self, stopwords: set[str], synonyms: list[tuple[str, str]], stem: bool = True):
        self.stopwords = stopwords
        self._stemmer = SnowballStemmer("english") if stem else None
        # token -> (stem, kept?): the corpus repeats its words, so each is analysed once.
        self._tokens: dict[str, tuple[str, bool]] = {}
        self.max_phrase = 1
        # Rules are keyed by the stems of the lay phrase so "aching" and "ache" both match.
        self.rules: dict[tuple[str, ...], tuple[str, ...]] = {}
        for lay, canonical in synonyms:
            key = tuple(self.stem(t) for t in tokenize(lay))
            target = tuple(self.stem(t) for t in tokenize(canonical) if t not in stopwords)
            if key:
                self.rules[key] = target
                self.max_phrase = max(self.max_phrase, len(key))
        self._first: dict[str, int] = {}  # first stem of a rule -> its longest rule's length
        for key in self.rules:
            self._first[key[0]] = max(self._first.get(key[0], 0), len(key))

    def stem(self, token: str) -> str:
        """Stem one token (identity when stemming is off)."""
        return self._stemmer.stem(token) if self._stemmer else token

    def _token(self, token: str) -> tuple[str, bool]:
        info = self._tokens.get(token)
        if info is None:
            base = token.split("'")[0]  # "i'm" and "don't" stop like "i" and "don"
            kept = token not in self.stopwords and base not in self.stopwords and not base.isdigit()
            info = (self.stem(token), kept)
            if len(self._tokens) < 200_000:  # room for a large library; bounds what random visitor words can take
                self._tokens[token] = info
        return info

    def _rule_at(self, tokens: list[str], i: int) -> tuple[int, tuple[str, ...]] | None:
        """Return (length, target) of the longest synonym rule starting at token i."""
        for n in range(min(self._first.get(self._token(tokens[i])[0], 0), len(tokens) - i), 0, -1):
            target = self.rules.get(tuple(self._token(t)[0] for t in tokens[i : i + n]))
            if target is not None:
                return n, target
        return None

    def terms(self, text: str) -> list[Term]:
        """Analyse text into terms, keeping each term's surface word (for traces)."""
        tokens = tokenize(text)
        out: list[Term] = []
        i = 0
        while i < len(tokens):
            stem, kept = self._token(tokens[i])
            rule = self._rule_at(tokens, i) if stem in self._first else None
            if rule is not None:
                surface = " ".join(tokens[i : i + rule[0]])
                out.extend(Term(s, surface) for s in rule[1])
                i += rule[0]
                continue
            if kept:
                out.append(Term(stem, tokens[i]))
            i += 1
        return out

    def analyze_tokens(self, tokens: list[str]) -> list[str]:
        """Analyse already tokenised text into index terms."""
        out: list[str] = []
        first, info = self._first, self._tokens
        i, n = 0, len(tokens)
        while i < n:
            stem, kept = info.get(tokens[i]) or self._token(tokens[i])
            if stem in first:
                rule = self._rule_at(tokens, i)
                if rule is not None:
                    out.extend(rule[1])
                    i += rule[0]
                    continue
            if kept:
                out.append(stem)
            i += 1
        return out

    def token_terms(self, token: str) -> tuple[str, ...]:
        """The terms a token gives where no phrase covers it: a one-word rule's target, its stem, or nothing."""
        stem, kept = self._token(token)
        target = self.rules.get((stem,)) if stem in self._first else None
        return target if target is not None else (stem,) if kept else ()

    def _phrase_at(self, stems: list[str], ids: np.ndarray, i: int, end: int) -> tuple[int, tuple[str, ...]] | None:
        """Return (length, target) of the longest rule of two or more words at ids[i], ending by end."""
        for n in range(min(self._first[stems[ids[i]]], end - i), 1, -1):
            target = self.rules.get(tuple(stems[w] for w in ids[i : i + n].tolist()))
            if target is not None:
                return n, target
        return None

    def analyze_batch(self, sequences: Iterable[Sequence[str]], chunk: int = 8192) -> Batch:
        """Analyse many sequences of texts: each as analyze(" ".join(texts)) would, all at once.

        The fast path for indexing a large library. Blocks of texts are tokenised together,
        each distinct token is analysed once, and the terms are gathered with numpy from the
        tokens' terms; only where a rule of two or more words may start does Python look at
        the tokens in order. A phrase may run from one text into the next of its sequence,
        never into the next sequence.
        """
        tables = _BatchTables(self)
        folded: dict[str, str] = {}
        term_parts, seq_parts, word_parts, length_parts = [], [], [], []
        done = 0
        sequences = iter(sequences)
        while block := list(itertools.islice(sequences, chunk)):
            texts = [t for seq in block for t in seq]
            ids, token_text = tables.tokens(pieces(texts, folded))
            length_parts.append(np.bincount(token_text, minlength=len(texts)))
            word_parts.append(ids)
            text_seq = np.repeat(np.arange(done, done + len(block), dtype=np.int32), [len(seq) for seq in block])
            pos_seq = text_seq[token_text]
            del token_text
            starts = np.flatnonzero(tables.phrase[ids])
            if len(starts):
                ends = np.cumsum(np.bincount(pos_seq - done, minlength=len(block)))
                alive = np.ones(len(ids), bool)
                extra_terms: list[int] = []
                extra_seqs: list[int] = []
                until = 0
                for i, seq in zip(starts.tolist(), pos_seq[starts].tolist()):
                    if i < until:  # inside a phrase already matched
                        continue
                    found = self._phrase_at(tables.stems, ids, i, int(ends[seq - done]))
                    if found is not None:
                        n, target = found
                        alive[i : i + n] = False
                        until = i + n
                        extra_terms.extend(tables.term(t) for t in target)
                        extra_seqs.extend([seq] * len(target))
                term_parts.append(np.array(extra_terms, np.int32))
                seq_parts.append(np.array(extra_seqs, np.int32))
                if until:  # a phrase matched: its words give no terms of their own
                    ids, pos_seq = ids[alive], pos_seq[alive]
            # Each remaining token gives its own terms: its first (or none) for all, then the
            # rest for the few tokens a one-word rule expands into several terms.
            first = tables.first_term[ids]
            kept = first >= 0
            term_parts.append(first[kept])
            seq_parts.append(pos_seq[kept])
            several = np.flatnonzero(tables.several[ids])
            if len(several):
                which = ids[several]
                more = tables.n_terms[which] - 1
                term_parts.append(tables.outs[_ragged(tables.out_start[which] + 1, more)])
                seq_parts.append(np.repeat(pos_seq[several], more))
            done += len(block)

        def joined(parts: list[np.ndarray], dtype=np.int32) -> np.ndarray:
            return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype)

        term_ids = joined(term_parts)
        names = list(tables.terms)
        used = np.bincount(term_ids, minlength=len(names)) > 0
        if not used.all():  # terms every occurrence of which a phrase took over
            term_ids = (np.cumsum(used) - 1).astype(np.int32)[term_ids]
            names = [t for t, u in zip(names, used) if u]
        return Batch(names, term_ids, joined(seq_parts), tables.words, joined(word_parts),
                     joined(length_parts, np.int64))

    def analyze(self, text: str) -> list[str]:
        """Analyse text into index terms."""
        return self.analyze_tokens(tokenize(text))


@lru_cache(maxsize=2)
def default_analyzer(stem: bool = True) -> Analyzer:
    """Build the analyzer from the shipped stopword and synonym lists."""
    synonyms = []
    for line in data_lines("synonyms.txt"):
        lay, _, canonical = line.partition("=>")
        synonyms.append((lay.strip(), canonical.strip()))
    return Analyzer(set(data_lines("stopwords.txt")), synonyms, stem=stem)
