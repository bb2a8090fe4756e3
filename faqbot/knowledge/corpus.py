"""Read and validate the corpus: Markdown or text documents with a title and a stable id."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .cleaning import is_heading, normalise_text

SUFFIXES = (".md", ".txt")
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n?", re.S)
QUESTION = re.compile(r"^Q:\s*(.+)$")
PUBLIC_URL = re.compile(r"https?://[^\s<>\"'#]+", re.I)  # an optional `url:`: where the article is published


class CorpusError(Exception):
    """A corpus that cannot be served; `problems` names each file and what is wrong."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Block:
    kind: str  # "heading" or "text"
    text: str
    questions: tuple[str, ...] = ()  # visitor phrasings answered by this paragraph


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    path: str
    blocks: tuple[Block, ...]
    meta: dict = field(default_factory=dict, compare=False)


def slug(text: str) -> str:
    """Make a stable, URL-safe id from a file name or title."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def parse_front_matter(text: str) -> tuple[dict, str]:
    """Split `key: value` front matter from the body."""
    m = FRONT_MATTER.match(text)
    if not m:
        return {}, text
    meta = {}
    for line in m.group(1).splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            meta[key.strip().lower()] = value.strip()
    return meta, text[m.end():]


def parse_blocks(body: str, markdown: bool) -> list[Block]:
    """Cut a body into headings and paragraphs, attaching `Q:` lines to the next paragraph."""
    blocks: list[Block] = []
    pending: list[str] = []
    chunks = [c.strip() for c in re.split(r"\n\s*\n", body) if c.strip()]
    for i, chunk in enumerate(chunks):
        lines = chunk.splitlines()
        questions = [QUESTION.match(ln).group(1).strip() for ln in lines if QUESTION.match(ln)]
        rest = [ln for ln in lines if not QUESTION.match(ln)]
        pending.extend(questions)
        if not rest:
            continue
        if markdown and rest[0].startswith("#"):
            blocks.append(Block("heading", rest[0].lstrip("#").strip()))
            rest = rest[1:]
            if not rest:
                continue
        text = " ".join(rest)
        next_is_text = i + 1 < len(chunks) and not chunks[i + 1].startswith("#")
        if not markdown and len(rest) == 1 and is_heading(text) and next_is_text:
            blocks.append(Block("heading", text))
            continue
        blocks.append(Block("text", text, tuple(pending)))
        pending = []
    if pending and blocks:  # questions written after the last paragraph belong to it
        last = blocks[-1]
        blocks[-1] = Block(last.kind, last.text, last.questions + tuple(pending))
    return blocks


def read_document(path: Path) -> Document:
    """Read one corpus file, raising CorpusError naming the file and the problem."""
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CorpusError([f"{name}: unreadable ({exc.strerror or exc})"]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError([f"{name}: not UTF-8 (bad byte at offset {exc.start})"]) from None
    meta, body = parse_front_matter(normalise_text(text) + "\n")
    markdown = path.suffix.lower() == ".md"
    title = meta.get("title", "")
    lines = [ln.strip() for ln in body.strip().splitlines()]
    if not title and lines and (lines[0].startswith("# ") or (not markdown and is_heading(lines[0], 16))):
        title, body = lines[0].lstrip("#").strip(), "\n".join(lines[1:])
    blocks = parse_blocks(body, markdown)
    if not any(b.kind == "text" for b in blocks):
        raise CorpusError([f"{name}: empty (no paragraphs of text)"])
    if not title:
        hint = "add 'title:' front matter or a '# Title' first line" if markdown else "make the first line the title"
        raise CorpusError([f"{name}: missing title ({hint})"])
    url = meta.get("url", "")
    if url and not PUBLIC_URL.fullmatch(url):
        raise CorpusError([f"{name}: 'url' must be the article's public http:// or https:// address, not {url!r}"])
    doc_id = slug(meta.get("id") or path.stem)
    return Document(doc_id, title, str(path), tuple(blocks), meta)


def load_corpus(directory: str | Path, strict: bool = True) -> tuple[list[Document], list[str]]:
    """Load every .md/.txt file; return documents and the problems of files skipped.

    With strict=True any problem raises CorpusError listing all of them.
    """
    root = Path(directory)
    if not root.is_dir():
        raise CorpusError([f"{root}: corpus directory not found (set FAQBOT_CORPUS_DIR)"])
    docs: list[Document] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    try:
        paths = sorted(p for p in root.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
    except OSError as exc:
        raise CorpusError([f"{root}: corpus directory unreadable ({exc.strerror or exc})"]) from None
    for path in paths:
        try:
            doc = read_document(path)
        except CorpusError as exc:
            problems.extend(exc.problems)
            continue
        if doc.id in seen:
            problems.append(f"{path.name}: duplicate id '{doc.id}' (also in {seen[doc.id]})")
            continue
        seen[doc.id] = path.name
        docs.append(doc)
    if not docs and not problems:
        problems.append(f"{root}: no .md or .txt documents")
    if problems and (strict or not docs):
        raise CorpusError(problems)
    return docs, problems
