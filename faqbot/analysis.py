"""One analyzer for documents and queries: normalise, tokenise, synonyms, stopwords, stem."""
from __future__ import annotations

import importlib.abc
import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


class _HideScipyStats(importlib.abc.MetaPathFinder):
    """Answer 'not installed' for scipy.stats, so nltk takes the fallback it ships for it."""

    def find_spec(self, name, path=None, target=None):
        if name == "scipy.stats" or name.startswith("scipy.stats."):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden while nltk is imported)", name=name)
        return None


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
from nltk.stem.snowball import SnowballStemmer  # noqa: E402

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
        """Analyse already tokenised text into index terms (the fast path for indexing)."""
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
