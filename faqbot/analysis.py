"""One analyzer for documents and queries: normalise, tokenise, synonyms, stopwords, stem."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from nltk.stem.snowball import SnowballStemmer
from nltk.tokenize import RegexpTokenizer

TOKEN = RegexpTokenizer(r"[a-z0-9]+(?:'[a-z]+)?")


def data_lines(name: str) -> list[str]:
    """Read a data file shipped in faqbot/data, without comments and blank lines."""
    text = resources.files("faqbot.data").joinpath(name).read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def normalise(text: str) -> str:
    """Fold case, accents and typographic quotes so 'Pétrissage’s' matches 'petrissage's'."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.replace("\u2019", "'").replace("\u2018", "'")


def tokenize(text: str) -> list[str]:
    """Split normalised text into word tokens, dropping possessive 's."""
    return [t[:-2] if t.endswith("'s") else t for t in TOKEN.tokenize(normalise(text))]


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
        self.max_phrase = 1
        # Rules are keyed by the stems of the lay phrase so "aching" and "ache" both match.
        self.rules: dict[tuple[str, ...], tuple[str, ...]] = {}
        for lay, canonical in synonyms:
            key = tuple(self.stem(t) for t in tokenize(lay))
            target = tuple(self.stem(t) for t in tokenize(canonical) if t not in stopwords)
            if key:
                self.rules[key] = target
                self.max_phrase = max(self.max_phrase, len(key))

    @lru_cache(maxsize=65536)
    def stem(self, token: str) -> str:
        """Stem one token (identity when stemming is off)."""
        return self._stemmer.stem(token) if self._stemmer else token

    def terms(self, text: str) -> list[Term]:
        """Analyse text into terms, keeping each term's surface word."""
        tokens = tokenize(text)
        stems = [self.stem(t) for t in tokens]
        out: list[Term] = []
        i = 0
        while i < len(tokens):
            for n in range(min(self.max_phrase, len(tokens) - i), 0, -1):
                target = self.rules.get(tuple(stems[i : i + n]))
                if target is not None:
                    surface = " ".join(tokens[i : i + n])
                    out.extend(Term(s, surface) for s in target)
                    i += n
                    break
            else:
                base = tokens[i].split("'")[0]  # "i'm" and "don't" stop like "i" and "don"
                if tokens[i] not in self.stopwords and base not in self.stopwords and not base.isdigit():
                    out.append(Term(stems[i], tokens[i]))
                i += 1
        return out

    def analyze(self, text: str) -> list[str]:
        """Analyse text into index terms."""
        return [t.stem for t in self.terms(text)]


@lru_cache(maxsize=2)
def default_analyzer(stem: bool = True) -> Analyzer:
    """Build the analyzer from the shipped stopword and synonym lists."""
    synonyms = []
    for line in data_lines("synonyms.txt"):
        lay, _, canonical = line.partition("=>")
        synonyms.append((lay.strip(), canonical.strip()))
    return Analyzer(set(data_lines("stopwords.txt")), synonyms, stem=stem)
