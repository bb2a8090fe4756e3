"""Text basics shared by the knowledge and answering stages: folding, word tokens, data files, nltk."""
from __future__ import annotations

import importlib.abc
import re
import sys
import unicodedata
from importlib import resources


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
