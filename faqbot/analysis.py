"""One analyzer for documents and queries: normalise, tokenise, synonyms, stopwords, stem."""
from __future__ import annotations

import importlib.abc
import itertools
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np


class _HideScipyStats(importlib.abc.MetaPathFinder):
    """Answer 'not installed' for scipy.stats, so nltk takes the fallback it ships for it."""

    def find_spec(self, name, path=None, target=None):
        if name == "scipy.stats" or name.startswith("scipy.stats."):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden while nltk is imported)", name=name)


def import_nltk() -> None:
    """Import nltk without scipy.stats: 50 MB of memory and half a second we never use.

    `import nltk` runs its package __init__, which imports nearly all of nltk; its collocation
    metrics and one aligner then import scipy.stats, each inside `try: ... except ImportError`
    with a fallback, because scipy is an optional dependency of nltk. We only use nltk's
    Snowball stemmer and Punkt sentence splitter, so while nltk is imported scipy.stats is
    reported absent; nothing of nltk is patched, and scipy.stats imports normally afterwards
    for anyone who wants it. If a future nltk needs scipy.stats, it is imported the usual way.
    """
    if "nltk" in sys.modules or "scipy.stats" in sys.modules:
        return
    hide = _HideScipyStats()
    sys.meta_path.insert(0, hide)
    try:
        import nltk  # noqa: F401
    except ImportError:  # nltk cannot do without it: forget the half-imported package, import as usual
        for name in [m for m in sys.modules if m == "nltk" or m.startswith("nltk.")]:
            del sys.modules[name]
    finally:
        sys.meta_path.remove(hide)


import_nltk()
from nltk.stem.snowball import SnowballStemmer

# Plain `re` rather than nltk's RegexpTokenizer: the same pattern and tokens, but nltk now
# runs it through the `regex` module's ReDoS guard, measured 7x slower (70 us vs 9.5 us per
# passage), which dominated indexing 100,000 passages. The pattern has no nested
# quantifiers, so it cannot backtrack catastrophically.
TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
POSSESSIVE = re.compile(r"'s\b")


def data_lines(name: str) -> list[str]:
    """Read a data file shipped in faqbot/data, without comments and blank lines."""
    text = resources.files("faqbot.data").joinpath(name).read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def normalise(text: str) -> str:
    """Fold case, accents and typographic quotes so 'Pétrissage’s' matches 'petrissage's'."""
    if text.isascii():  # the common case, and 50x faster than the per-character path
        return text.casefold()
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.replace("\u2019", "'").replace("\u2018", "'")


def tokenize(text: str) -> list[str]:
    """Split normalised text into word tokens, dropping possessive 's."""
    return TOKEN.findall(POSSESSIVE.sub("", normalise(text)))


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


@lru_cache(maxsize=2)
def default_analyzer(stem: bool = True) -> Analyzer:
    """Build the analyzer from the shipped stopword and synonym lists."""
    synonyms = []
    for line in data_lines("synonyms.txt"):
        lay, _, canonical = line.partition("=>")
        synonyms.append((lay.strip(), canonical.strip()))
    return Analyzer(set(data_lines("stopwords.txt")), synonyms, stem=stem)
