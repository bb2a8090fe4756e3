"""Analysing a whole library at once: tokens numbered, terms gathered with numpy (Analyzer.analyze_batch)."""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..knowledge.text import POSSESSIVE, normalise

if TYPE_CHECKING:
    from .analysis import Analyzer


# Indexing tokenises a block of texts at once: joined with a NUL between them, folded and
# stripped of possessives as tokenize() does, then every byte that cannot be in a token (or be
# the NUL) made a space, so bytes.split() gives runs of [a-z0-9'], "pieces". A piece without an
# apostrophe is exactly one token; one with (rare) is split by the token pattern itself.
_PIECE_BYTES = set(b"0123456789abcdefghijklmnopqrstuvwxyz'\x00")
_PIECES = bytes(c if c in _PIECE_BYTES else 32 for c in range(256))
TOKEN_BYTES = re.compile(rb"[a-z0-9]+(?:'[a-z]+)?")
_SEPARATOR = b"\x00"


def pieces(texts: list[str], folded: dict[str, str] | None = None) -> list[bytes]:
    """Split texts into pieces, with b"\\x00" between one text's and the next's.

    folded caches the normalised form of non-ASCII words between calls.
    """
    folded = {} if folded is None else folded

    def fold(text: str) -> str:
        if text.isascii():
            return text.lower()
        # Word by word, so a curly quote does not send the whole text through the per-character
        # path: whitespace separates tokens before and after normalising alike.
        return " ".join([w.lower() if w.isascii() else folded.get(w) or folded.setdefault(w, normalise(w))
                         for w in text.split()])

    # A NUL is no token character, exactly like the space it is replaced by, so that the only
    # NULs left are the separators.
    joined = " \x00 ".join([fold(t).replace("\x00", " ") for t in texts])
    return POSSESSIVE.sub("", joined).encode("utf-8", "replace").translate(_PIECES).split()


def _ragged(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Indices starts[0], starts[0]+1, ... (counts[0] of them), then starts[1], ... as one array."""
    before = np.cumsum(counts) - counts
    return np.repeat(starts - before, counts) + np.arange(int(counts.sum()))


@dataclass
class Batch:
    """Many token sequences analysed at once (Analyzer.analyze_batch)."""

    terms: list[str]  # the distinct terms, numbered as in term_ids
    term_ids: np.ndarray  # int32: every term the sequences gave (their order within a sequence is not kept)
    seqs: np.ndarray  # int32: the sequence each of term_ids came from
    words: list[str]  # the distinct tokens, numbered as in word_ids
    word_ids: np.ndarray  # int32: every token of the texts, in order
    lengths: np.ndarray  # int64: how many tokens each text has, in order


class _BatchTables:
    """What analyze_batch knows of every piece and token it has met, the per-token part as numpy arrays."""

    PLACEHOLDER = 1 << 40  # above every code: marks a piece met for the first time

    def __init__(self, analyzer: Analyzer):
        self.analyzer = analyzer
        # A piece's code: the number of its one token, -1 for the separator, or -2 - k for the
        # k-th piece that is not one token ("'", "ab'cd'ef"): expansions[k] are its tokens.
        self.codes: dict[bytes, int] = {_SEPARATOR: -1}
        self.expansions: list[list[int]] = []
        self.numbers: dict[bytes, int] = {}  # token -> its number
        self.words: list[str] = []
        self.stems: list[str] = []
        self.terms: dict[str, int] = {}
        self._new: list[tuple[list[int], bool]] = []  # tokens met since _arrays(): their terms, phrase start?
        self.outs = np.empty(0, np.int32)  # every token's terms, one after the other
        self.out_start = np.empty(0, np.int64)  # per token: where its terms start in outs
        self.n_terms = np.empty(0, np.int64)  # per token: how many terms it gives
        self.first_term = np.empty(0, np.int32)  # per token: its first term, or -1 for none
        self.several = np.empty(0, bool)  # per token: gives two or more terms
        self.phrase = np.empty(0, bool)  # per token: a phrase rule may start at it

    def term(self, term: str) -> int:
        return self.terms.setdefault(term, len(self.terms))

    def _token(self, token: bytes) -> int:
        number = self.numbers.get(token)
        if number is None:
            number = self.numbers[token] = len(self.words)
            word = token.decode("ascii")
            stem = self.analyzer._token(word)[0]
            self.words.append(word)
            self.stems.append(stem)
            self._new.append(([self.term(t) for t in self.analyzer.token_terms(word)],
                              self.analyzer._first.get(stem, 0) > 1))
        return number

    def _code(self, piece: bytes) -> int:
        tokens = TOKEN_BYTES.findall(piece) if b"'" in piece else [piece]
        if len(tokens) == 1:
            return self._token(tokens[0])
        self.expansions.append([self._token(t) for t in tokens])
        return -1 - len(self.expansions)

    def _arrays(self) -> None:
        """Append the tokens met since the last call to the per-token arrays."""
        count = np.array([len(given) for given, _ in self._new], np.int64)
        start = len(self.outs) + np.cumsum(count) - count
        self.outs = np.concatenate([self.outs, np.array([t for given, _ in self._new for t in given], np.int32)])
        first = np.full(len(count), -1, np.int32)
        first[count > 0] = self.outs[start[count > 0]]
        self.out_start = np.concatenate([self.out_start, start])
        self.n_terms = np.concatenate([self.n_terms, count])
        self.first_term = np.concatenate([self.first_term, first])
        self.several = np.concatenate([self.several, count > 1])
        self.phrase = np.concatenate([self.phrase, np.array([p for _, p in self._new], bool)])
        self._new = []

    def tokens(self, raw: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """Number the tokens of a block's pieces; return them and the number of the text each is in."""
        # One dictionary pass: a piece already met gives its code, a new one a placeholder.
        codes = np.fromiter(map(self.codes.setdefault, raw, itertools.count(self.PLACEHOLDER)), np.int64,
                            count=len(raw))
        fresh = codes >= self.PLACEHOLDER
        if fresh.any():
            firsts = np.flatnonzero(codes == self.PLACEHOLDER + np.arange(len(raw)))
            new_codes = np.array([self._code(raw[i]) for i in firsts.tolist()], np.int64)
            for i, code in zip(firsts.tolist(), new_codes.tolist()):
                self.codes[raw[i]] = code
            codes[fresh] = new_codes[np.searchsorted(firsts, codes[fresh] - self.PLACEHOLDER)]
            self._arrays()
        separator = codes == -1
        text = np.cumsum(separator)
        several = codes < -1
        if not several.any():  # every piece but the separators is one token
            kept = ~separator
            return codes[kept].astype(np.int32), text[kept]
        sizes = np.array([len(e) for e in self.expansions], np.int64)
        which = -2 - codes[several]
        n = (~separator).astype(np.int64)
        n[several] = sizes[which]
        ids = np.repeat(codes, n)
        flat = np.array([t for e in self.expansions for t in e], np.int64)
        ids[np.repeat(several, n)] = flat[_ragged((np.cumsum(sizes) - sizes)[which], sizes[which])]
        return ids.astype(np.int32), np.repeat(text, n)
