"""Turn a raw scraped article into a clean corpus document (Markdown + front matter)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Site chrome and link text seen in scraped pages; matched whole-line or inline.
NAV_LINES = re.compile(r"^\s*(?:«|&laquo;)?\s*(?:back to home|posted on|share this|read more|tags?:.*)\s*$", re.I)
LINK_TEXT = re.compile(r"\s*\b(?:Full Article|Read More|Click Here|Learn More|Continue Reading)\b\s*")
NUMBERED = re.compile(r"^\d+[.)]\s+")
TERMINAL = re.compile(r"[.!:;,]$")  # a heading may be a question
# A space a scrape left before punctuation, where an inline link or tag was: "health , your" / "an hour ."
SPACE_BEFORE_PUNCT = re.compile(r"(?<=\S) +([,.;:!?]+)(?=\s|$)")


@dataclass(frozen=True)
class CleanArticle:
    title: str
    body: str  # Markdown: paragraphs and "## " headings


def normalise_text(text: str) -> str:
    """Normalise Unicode and whitespace without changing the words."""
    text = unicodedata.normalize("NFKC", text)  # NBSP -> space, ligatures -> letters
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" +\n", "\n", text)
    # A stray full stop left behind by a removed link or image: "the body. ."
    text = re.sub(r"([.!?]) +\.(?=\s|$)", r"\1", text)
    return text.strip()


def is_heading(line: str, max_words: int = 12) -> bool:
    """Tell whether a line reads as a heading: short and without sentence punctuation."""
    line = NUMBERED.sub("", line)
    words = line.split()
    return 0 < len(words) <= max_words and not TERMINAL.search(line) and not line[:1].islower()


def mend_spacing(text: str) -> str:
    """Close the gap a scrape leaves before punctuation ("health , your" -> "health, your")."""
    return SPACE_BEFORE_PUNCT.sub(r"\1", text)


def mark_headings(blocks: list[str]) -> list[str]:
    """Mark as "## " each short line without final punctuation that is followed by a paragraph.

    Read from the end: the last block is a paragraph, and a heading-like line counts as a paragraph
    when no paragraph follows it, so "During the massage" above a short, unpunctuated last
    paragraph is still a heading (a scrape often drops a paragraph's final full stop).
    """
    heading = [False] * len(blocks)
    for i in range(len(blocks) - 2, -1, -1):
        heading[i] = is_heading(blocks[i]) and not heading[i + 1]
    return ["## " + NUMBERED.sub("", b) if h else b for b, h in zip(blocks, heading)]


def is_caption(line: str) -> bool:
    """Tell whether a line is a stray image caption: short, lower-case, unpunctuated."""
    words = line.split()
    return 0 < len(words) <= 6 and line[:1].islower() and not re.search(r"[.!?:;,]$", line)


def clean_scraped(raw: str, title: str | None = None) -> CleanArticle:
    """Strip scrape artefacts from a raw article and mark its headings."""
    text = LINK_TEXT.sub(" ", normalise_text(raw))
    text = mend_spacing(normalise_text(text))
    # Site chrome: "Site Name / « Back to Home" at the top goes as a block.
    lines = [ln.strip() for ln in text.split("\n")]
    blocks = [ln for ln in lines if ln]
    home = [i for i, b in enumerate(blocks[:4]) if re.search(r"back to home", b, re.I)]
    if home:  # everything above a "Back to Home" link is the site's name
        blocks = blocks[home[0] + 1 :]
    kept: list[str] = []
    for block in blocks:
        if NAV_LINES.match(block) or is_caption(block):
            continue
        if kept and block == kept[-1]:  # a title repeated twice
            continue
        kept.append(block)
    if title is None:
        if not kept or not is_heading(kept[0], max_words=16):
            raise ValueError("no title line found; pass a title")
        title = kept.pop(0)
        # A page title stacked on the article's own heading: the one nearer the text wins.
        if len(kept) > 1 and is_heading(kept[0], max_words=16) and not is_heading(kept[1]):
            title = kept.pop(0)
    elif kept and kept[0] == title:
        kept.pop(0)
    out = mark_headings(kept)
    return CleanArticle(title=title, body="\n\n".join(out) + "\n")
