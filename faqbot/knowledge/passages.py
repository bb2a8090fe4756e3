"""Split documents into sentence-bounded, answer-sized passages under their headings."""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

from .text import import_nltk
from .corpus import Document, slug

import_nltk()
from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

MIN_WORDS, MAX_WORDS = 40, 120
ARTICLE_PATH = "/articles/{}"  # the service's own page of an article with no public `url:`
# Abbreviations a clinic's text uses; the untrained tokenizer only knows what we list
# (training on five articles learnt nothing useful: see README "Sentence splitting").
ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "st", "e.g", "i.e", "etc", "vs", "approx", "no", "fig", "min", "hrs"}


@dataclass(frozen=True)
class Passage:
    id: str
    doc_id: str
    doc_title: str
    heading: str | None
    text: str
    questions: tuple[str, ...] = ()
    # Where each sentence of text ends: split once at indexing, not on every reply, and kept as
    # offsets rather than a second copy of the text (45 MB at 100,000 passages).
    breaks: tuple[int, ...] = ()
    doc_url: str | None = None  # the article's public address (front matter `url:`), if it has one

    @property
    def url(self) -> str:
        """Where a visitor can read this passage in its article: the public page, else ours, at its heading."""
        base = self.doc_url or ARTICLE_PATH.format(self.doc_id)
        return f"{base}#{heading_anchor(self.heading)}" if self.heading else base

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def sentences(self) -> tuple[str, ...]:
        """The text's sentences as split at indexing (none when it was not split)."""
        starts = (0, *(end + 1 for end in self.breaks[:-1]))  # text joins them with one space
        return tuple(self.text[start:end] for start, end in zip(starts, self.breaks))


@lru_cache(maxsize=1)
def sentence_tokenizer() -> PunktSentenceTokenizer:
    """Build the Punkt tokenizer with our abbreviations and no downloaded model."""
    params = PunktParameters()
    params.abbrev_types = set(ABBREVIATIONS)
    return PunktSentenceTokenizer(params)


def sentences(text: str) -> list[str]:
    """Split text into sentences."""
    return [s.strip() for s in sentence_tokenizer().tokenize(text) if s.strip()]


def balanced_chunks(sents: list[str], max_words: int = MAX_WORDS) -> list[list[str]]:
    """Cut a long run of sentences into near-equal chunks of at most max_words where possible."""
    total = sum(len(s.split()) for s in sents)
    if total <= max_words:
        return [sents]
    target = total / math.ceil(total / max_words)
    chunks: list[list[str]] = [[]]
    size = 0
    for s in sents:
        n = len(s.split())
        if chunks[-1] and size + n / 2 > target:
            chunks.append([])
            size = 0
        chunks[-1].append(s)
        size += n
    return chunks


def split_document(doc: Document) -> list[Passage]:
    """Turn one document into passages; headings go with the text under them."""
    units: list[tuple[str | None, list[str], tuple[str, ...]]] = []  # (heading, sentences, questions)
    heading: str | None = None
    for block in doc.blocks:
        if block.kind == "heading":
            heading = block.text
            continue
        for i, chunk in enumerate(balanced_chunks(sentences(block.text))):
            units.append((heading, chunk, block.questions if i == 0 else ()))
    merged: list[tuple[str | None, list[str], tuple[str, ...]]] = []
    url = doc.meta.get("url") or None
    for unit in units:
        if merged:
            prev = merged[-1]
            sizes = [sum(len(s.split()) for s in u[1]) for u in (prev, unit)]
            same_section = prev[0] == unit[0]
            if same_section and min(sizes) < MIN_WORDS and sum(sizes) <= MAX_WORDS:
                merged[-1] = (prev[0], prev[1] + unit[1], prev[2] + unit[2])
                continue
        merged.append(unit)
    return [
        Passage(f"{doc.id}#{n}", doc.id, doc.title, h, " ".join(sents), qs, sentence_ends(sents), url)
        for n, (h, sents, qs) in enumerate(merged, start=1)
    ]


def heading_anchor(heading: str) -> str:
    """The fragment id of a heading on an article's page ("During the massage" -> during-the-massage)."""
    return slug(heading) or "section"


def sentence_ends(sents: list[str]) -> tuple[int, ...]:
    """Where each sentence ends in " ".join(sents)."""
    return tuple(itertools.accumulate(len(s) + (i > 0) for i, s in enumerate(sents)))


def split_corpus(docs: list[Document]) -> list[Passage]:
    """Split every document."""
    return [p for doc in docs for p in split_document(doc)]


def by_document(passages: list[Passage]) -> dict[str, list[Passage]]:
    """Group passages by their document, in order (one pass: a library has many of both)."""
    groups: dict[str, list[Passage]] = {}
    for p in passages:
        groups.setdefault(p.doc_id, []).append(p)
    return groups
