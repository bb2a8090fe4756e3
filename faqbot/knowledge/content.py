"""The bot's knowledge as one versioned record: the articles, staff edits on their passages, clinic answers.

The articles are kept as imported from `corpus/` (the seed) and staff edits lie over them keyed by
passage id, so importing a changed corpus keeps what staff wrote: an edit on a passage that no
longer exists is reported, not applied. Plain data in, passages out; storing it is storage's job.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from .corpus import Block, Document, slug
from .passages import Passage, sentence_ends, sentences, split_corpus

CLINIC_DOC = "clinic"  # the document id of staff-written clinic answers (their source is "the clinic")
# Limits on staff text: an answer is read in a chat bubble, a question is one visitor's message.
MAX_ANSWER, MAX_QUESTION, MAX_QUESTIONS, MAX_PASSAGE, MAX_LINK = 1500, 300, 30, 3000, 500
MAX_ANSWERS = 500
ANSWERS_FILE = "clinic-answers.json"  # beside the articles in corpus/: clinic answers as exported


@dataclass(frozen=True)
class ClinicAnswer:
    id: str
    questions: tuple[str, ...]
    answer: str
    link: str | None = None


@dataclass(frozen=True)
class PassageEdit:
    text: str | None = None  # the passage's new text, or None to keep the article's
    added: tuple[str, ...] = ()  # visitor questions staff attached
    removed: tuple[str, ...] = ()  # the article's own `Q:` lines staff took away


@dataclass(frozen=True)
class Knowledge:
    documents: tuple[Document, ...]
    answers: tuple[ClinicAnswer, ...] = ()
    edits: dict[str, PassageEdit] = field(default_factory=dict)
    seed: str = ""  # the fingerprint of the corpus/ files the documents were imported from

    @cached_property
    def digest(self) -> str:
        """A hash of the content: the same knowledge has the same digest (caches key on it).

        Worked out once: a record is never changed (edits make a new one), and staff's requests
        compare the draft's and the published digests on each call."""
        return hashlib.sha256(dumps(self).encode("utf-8")).hexdigest()[:16]


def seed_fingerprint(docs: list[Document] | tuple[Document, ...]) -> str:
    """Hash what was loaded (not file times), so the same text always has the same fingerprint."""
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(repr((doc.id, doc.title, doc.blocks)).encode("utf-8"))
    return digest.hexdigest()[:16]


def from_corpus(docs: list[Document], previous: Knowledge | None = None) -> Knowledge:
    """Knowledge from freshly read corpus files, keeping the answers and edits of the previous version."""
    kept = previous or Knowledge(())
    # Named by file, not by path: the same articles are the same knowledge wherever corpus/ lies.
    docs = [replace(d, path=Path(d.path).name) for d in docs]
    return Knowledge(tuple(docs), kept.answers, dict(kept.edits), seed_fingerprint(docs))


def clinic_passage(answer: ClinicAnswer, clinic: str) -> Passage:
    sents = sentences(answer.answer) or [answer.answer]
    return Passage(f"{CLINIC_DOC}#{answer.id}", CLINIC_DOC, clinic, None, " ".join(sents), answer.questions,
                   sentence_ends(sents), answer.link)


def article_passages(knowledge: Knowledge) -> list[Passage]:
    """The articles' passages with staff edits applied (not the clinic answers)."""
    out = []
    for p in split_corpus(list(knowledge.documents)):
        edit = knowledge.edits.get(p.id)
        if edit is not None:
            questions = tuple(q for q in p.questions if q not in edit.removed) + \
                tuple(q for q in edit.added if q not in p.questions)
            p = replace(p, questions=questions)
            if edit.text is not None:
                sents = sentences(edit.text) or [edit.text]
                p = replace(p, text=" ".join(sents), breaks=sentence_ends(sents))
        out.append(p)
    return out


def passages(knowledge: Knowledge, clinic: str) -> list[Passage]:
    """Every passage the bot answers from: the articles' (edited), then the clinic's answers."""
    return article_passages(knowledge) + [clinic_passage(a, clinic) for a in knowledge.answers]


def orphaned(knowledge: Knowledge) -> list[str]:
    """Passage ids staff edited that the articles no longer have (after a corpus import)."""
    ids = {p.id for p in split_corpus(list(knowledge.documents))}
    return sorted(pid for pid in knowledge.edits if pid not in ids)


# -- JSON, the stored form ---------------------------------------------------------------------
def to_json(knowledge: Knowledge) -> dict:
    return {
        "seed": knowledge.seed,
        "documents": [{"id": d.id, "title": d.title, "file": Path(d.path).name, "meta": d.meta,
                       "blocks": [[b.kind, b.text, list(b.questions)] for b in d.blocks]}
                      for d in knowledge.documents],
        "answers": [{"id": a.id, "questions": list(a.questions), "answer": a.answer, "link": a.link}
                    for a in knowledge.answers],
        "edits": {pid: {"text": e.text, "added": list(e.added), "removed": list(e.removed)}
                  for pid, e in sorted(knowledge.edits.items())},
    }


def dumps(knowledge: Knowledge) -> str:
    return json.dumps(to_json(knowledge), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def from_json(data: dict | str) -> Knowledge:
    if isinstance(data, str):
        data = json.loads(data)
    docs = tuple(Document(d["id"], d["title"], d.get("file", d["id"] + ".md"),
                          tuple(Block(k, t, tuple(q)) for k, t, q in d["blocks"]), dict(d.get("meta") or {}))
                 for d in data.get("documents", []))
    answers = tuple(ClinicAnswer(a["id"], tuple(a["questions"]), a["answer"], a.get("link"))
                    for a in data.get("answers", []))
    edits = {pid: PassageEdit(e.get("text"), tuple(e.get("added", ())), tuple(e.get("removed", ())))
             for pid, e in data.get("edits", {}).items()}
    return Knowledge(docs, answers, edits, data.get("seed", ""))


# -- changes, as staff make them -----------------------------------------------------------------
def new_answer_id(knowledge: Knowledge, questions: tuple[str, ...]) -> str:
    """A short readable id from the first question, unique in this knowledge."""
    base = slug(questions[0])[:40].strip("-") or "answer"
    taken = {a.id for a in knowledge.answers}
    n, candidate = 1, base
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def changes(old: Knowledge, new: Knowledge) -> list[str]:
    """Say, line by line, what differs between two versions (for the publish log and the console)."""
    lines = []
    before = {a.id: a for a in old.answers}
    after = {a.id: a for a in new.answers}
    lines += [f"clinic answer added: {i}" for i in after if i not in before]
    lines += [f"clinic answer deleted: {i}" for i in before if i not in after]
    lines += [f"clinic answer edited: {i}" for i in after if i in before and after[i] != before[i]]
    old_p = {p.id: p for p in article_passages(old)}
    for p in article_passages(new):
        was = old_p.pop(p.id, None)
        if was is None:
            lines.append(f"passage added: {p.id}")
            continue
        if was.text != p.text:
            lines.append(f"passage text edited: {p.id}")
        gained = [q for q in p.questions if q not in was.questions]
        lost = [q for q in was.questions if q not in p.questions]
        lines += [f"question on {p.id}: + {q}" for q in gained] + [f"question on {p.id}: - {q}" for q in lost]
    lines += [f"passage removed: {pid}" for pid in old_p]
    return lines


def export(knowledge: Knowledge, directory: str | Path) -> list[Path]:
    """Write the knowledge as corpus files: one per article (passages as paragraphs with their `Q:` lines)
    and the clinic answers as `clinic-answers.md`. Reading them back gives the same passages' text."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    written = []
    by_doc: dict[str, list[Passage]] = {}
    for p in article_passages(knowledge):
        by_doc.setdefault(p.doc_id, []).append(p)
    for doc in knowledge.documents:
        meta = {k: v for k, v in doc.meta.items() if k not in ("id", "title")}
        lines = ["---", f"id: {doc.id}", f"title: {doc.title}", *(f"{k}: {v}" for k, v in meta.items()), "---", ""]
        heading = None
        for p in by_doc.get(doc.id, []):
            if p.heading and p.heading != heading:
                lines += [f"## {p.heading}", ""]
            heading = p.heading
            lines += [*(f"Q: {q}" for q in p.questions), p.text, ""]
        target = root / f"{Path(doc.path).stem}.md"  # the same order as corpus/ (files are read sorted)
        target.write_text("\n".join(lines), encoding="utf-8")
        written.append(target)
    if knowledge.answers:
        target = root / ANSWERS_FILE  # not a corpus file: a fresh install publishes the answers it holds
        target.write_text(json.dumps(to_json(knowledge)["answers"], indent=2, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        written.append(target)
    return written
