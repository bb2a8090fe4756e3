"""Build a bot from the knowledge, and decide which knowledge an instance serves.

corpus/ is read into knowledge (read_corpus), the database holds its published versions
(published, import_corpus), a bot is built on a version (build_from), and every worker is told
when a new one is published (announce). reindex.py swaps bots in a running app.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .config import Settings
from .knowledge import content
from .knowledge.content import ANSWERS_FILE, Knowledge, changes, from_corpus, from_json, to_json
from .knowledge.corpus import CorpusError, load_corpus
from .knowledge.passages import by_document
from .answering.pipeline import Bot
from .answering.semantic import load_meaning
from .storage.base import Store, StoreUnavailable
from .storage.knowledge import KnowledgeStore

log = logging.getLogger(__name__)
VERSION_KEY = "corpus_version"  # in the database's meta table: the version every worker should serve


@dataclass(frozen=True)
class DocInfo:
    id: str
    title: str
    file: str
    passages: int
    questions: int  # visitor phrasings ("Q:" lines and staff's) attached to its paragraphs


@dataclass(frozen=True)
class CorpusInfo:
    """What a bot was built from: the knowledge's content hash and version, when, and the documents."""

    hash: str
    built: float
    documents: tuple[DocInfo, ...]
    version: int = 0  # the published knowledge version; 0: read from corpus/ files, not the database
    answers: int = 0  # staff-written clinic answers

    @property
    def passages(self) -> int:
        return sum(d.passages for d in self.documents)

    def as_dict(self) -> dict:
        return {"hash": self.hash, "built": self.built, "documents": [asdict(d) for d in self.documents],
                "passages": self.passages, "version": self.version, "answers": self.answers}


def describe(knowledge: Knowledge, passages, version: int = 0) -> CorpusInfo:
    """Summarise the knowledge a bot serves for the console."""
    groups = by_document(passages)
    infos = []
    for doc in knowledge.documents:
        mine = groups.get(doc.id, [])
        infos.append(DocInfo(doc.id, doc.title, Path(doc.path).name, len(mine), sum(len(p.questions) for p in mine)))
    return CorpusInfo(knowledge.digest, time.time(), tuple(infos), version, len(knowledge.answers))


def read_corpus(settings: Settings, strict: bool = True, previous: Knowledge | None = None) -> Knowledge:
    """Read corpus/ into knowledge, keeping the previous version's staff edits and clinic answers.

    A first import also takes the clinic answers an export left beside the articles.
    """
    docs, problems = load_corpus(settings.CORPUS_DIR, strict=strict)
    for problem in problems:
        log.warning("corpus file skipped: %s", problem)
    knowledge = from_corpus(docs, previous)
    answers = Path(settings.CORPUS_DIR) / ANSWERS_FILE
    if previous is None and answers.is_file():
        try:
            knowledge = from_json({**to_json(knowledge), "answers": json.loads(answers.read_text("utf-8"))})
        except (ValueError, KeyError, TypeError) as exc:
            raise CorpusError([f"{ANSWERS_FILE}: not a list of clinic answers ({exc})"]) from None
    return knowledge


def build_from(settings: Settings, knowledge: Knowledge, version: int = 0, progress=None) -> tuple[Bot, CorpusInfo]:
    """Build a bot on some knowledge, and its description."""
    passages = content.passages(knowledge, settings.CLINIC_NAME)
    meaning, status = load_meaning(settings.SEMANTIC, settings.SEMANTIC_MODEL_DIR, settings.EMBEDDING_CACHE_DIR)
    bot = Bot(settings, passages, meaning=meaning, progress=progress)
    bot.semantic_status = status  # for /readyz: "ok", "off" or "unavailable: why"
    return bot, describe(knowledge, passages, version)


def build(settings: Settings, strict: bool = True, progress=None) -> tuple[Bot, CorpusInfo]:
    """Build a bot on corpus/ alone (the command line, tests); raises CorpusError listing every problem.

    A reindex is always strict; start-up follows CORPUS_STRICT, skipping bad files with a warning.
    """
    return build_from(settings, read_corpus(settings, strict), progress=progress)


def published(settings: Settings, store: Store) -> tuple[Knowledge, int]:
    """The knowledge to serve: the database's published version, importing corpus/ when it is new.

    corpus/ is the seed: a fresh database publishes version 1 from it, and a corpus/ changed since
    its last import (a deploy brought new articles) is published over the current version, keeping
    staff's edits and answers. With the database down, corpus/ is served as it is (version 0).
    """
    versions = KnowledgeStore(store)
    try:
        latest = versions.latest()
        seed = versions.seed()
    except StoreUnavailable as exc:
        log.warning("knowledge database unavailable (%s): serving corpus/ as it is", exc)
        return read_corpus(settings, settings.CORPUS_STRICT), 0
    if latest is not None and not Path(settings.CORPUS_DIR).is_dir():  # the seed is gone: the database has it all
        log.info("no corpus folder at %s: serving the published knowledge, version %d", settings.CORPUS_DIR,
                 latest[0].version)
        return latest[1], latest[0].version
    # A bad file refuses the start (CORPUS_STRICT), as before knowledge moved into the database: a
    # deploy with a broken article fails where the operator sees it, and `faqbot upgrade` keeps the old server.
    fresh = read_corpus(settings, settings.CORPUS_STRICT, latest[1] if latest else None)
    if latest is not None and fresh.seed == seed:
        return latest[1], latest[0].version
    return import_corpus(settings, versions, latest, fresh=fresh)


def import_corpus(settings: Settings, versions: KnowledgeStore, latest, author: str = "corpus/",
                  fresh: Knowledge | None = None) -> tuple[Knowledge, int]:
    """Publish corpus/ (read strictly, unless `fresh` was read already) over the latest version, keeping
    staff's edits and answers, and lay staff's unpublished draft over the new articles; the version is
    unchanged when nothing changed."""
    fresh = fresh or read_corpus(settings, True, latest[1] if latest else None)
    if latest is not None and fresh.digest == latest[1].digest:
        version = latest[0].version
    else:
        lines = ["imported corpus/", *changes(latest[1], fresh)] if latest else ["first import of corpus/"]
        version = versions.add(fresh, author, "\n".join(lines))
        log.info("published knowledge version %d from corpus/", version)
    versions.set_seed(fresh.seed)
    draft = versions.draft()
    if draft is not None:
        versions.save_draft(from_corpus(list(fresh.documents), draft.knowledge), version, draft.author)
    return fresh, version


def announce(store: Store, info: CorpusInfo) -> str | None:
    """Tell every worker and instance to load the knowledge now published; None when not written."""
    # The time makes each publish a new token, so workers rebuild even if the content repeats.
    token = json.dumps({"hash": info.hash, "version": info.version, "at": time.time()})
    if store.set_meta(VERSION_KEY, token):
        return token
    log.warning("could not record the knowledge version: other workers keep their index until restarted")
    return None
