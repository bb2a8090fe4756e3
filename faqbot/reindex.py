"""Swap in a new index without downtime, in this worker and, through the database, in every other."""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from flask import Flask

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
VERSION_KEY = "corpus_version"


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
    if latest is not None and fresh.digest == latest[1].digest:
        versions.set_seed(fresh.seed)
        return latest[1], latest[0].version
    summary = "imported corpus/" + "".join(f"\n{line}" for line in changes(latest[1], fresh)) if latest else \
        "first import of corpus/"
    version = versions.add(fresh, "corpus/", summary)
    versions.set_seed(fresh.seed)
    log.info("published knowledge version %d from corpus/", version)
    return fresh, version


def import_corpus(settings: Settings, versions: KnowledgeStore, latest, author: str = "corpus/") -> tuple[Knowledge, int]:
    """Publish corpus/ (read strictly) over the latest version, keeping staff's edits and answers, and
    lay staff's unpublished draft over the new articles; the version is unchanged when nothing changed."""
    fresh = read_corpus(settings, True, latest[1] if latest else None)
    if latest is not None and fresh.digest == latest[1].digest:
        version = latest[0].version
    else:
        lines = changes(latest[1], fresh) if latest else []
        version = versions.add(fresh, author, "\n".join(["imported corpus/", *lines]))
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


publish = announce  # the command line's name for it before knowledge moved into the database


class Reindexer:
    """Own one app's bot: publish knowledge (corpus/ imports, staff's drafts, rollbacks), and follow
    the versions other processes publish."""

    def __init__(self, app: Flask):
        self.app = app
        self.store: Store = app.extensions["faqbot.store"]
        self.versions = KnowledgeStore(self.store)
        self.interval = float(app.config["REINDEX_CHECK_SECONDS"])
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self.seen = self.store.meta(VERSION_KEY)
        self.store.close()  # the master must not hand its sqlite handle to forked workers

    @property
    def bot(self) -> Bot:
        return self.app.extensions["faqbot"]

    @property
    def info(self) -> CorpusInfo:
        """Describe the knowledge the current bot was built from (the app factory's, then each swap's)."""
        return self.app.extensions["faqbot.corpus"]

    @property
    def knowledge(self) -> Knowledge:
        return self.app.extensions["faqbot.knowledge"]

    def _swap(self, knowledge: Knowledge, version: int, built: tuple[Bot, CorpusInfo] | None = None) -> CorpusInfo:
        bot, info = built or build_from(self.bot.settings, knowledge, version)
        info = replace(info, version=version)
        # One reference assignment each: a request already running keeps the bot it started with.
        self.app.extensions["faqbot"] = bot
        self.app.extensions["faqbot.corpus"] = info
        self.app.extensions["faqbot.knowledge"] = knowledge
        return info

    def _go_live(self, knowledge: Knowledge, version: int, built: tuple[Bot, CorpusInfo] | None = None) -> CorpusInfo:
        started = time.perf_counter()
        info = self._swap(knowledge, version, built)
        self.seen = announce(self.store, info) or self.seen
        log.info("serving knowledge version %d (%s): %d documents, %d passages, %d clinic answers, built in %.0f ms",
                 version, info.hash, len(info.documents), info.passages, info.answers,
                 (time.perf_counter() - started) * 1000)
        return info

    def reindex(self, author: str = "corpus/") -> CorpusInfo:
        """Import corpus/ as a new published version (keeping staff's edits and answers), swap it in here,
        then tell the other workers; raises CorpusError, and nothing changes, when a file is bad."""
        with self._lock:
            try:
                latest = self.versions.latest()
            except StoreUnavailable as exc:  # no database: this worker serves corpus/ alone
                log.warning("knowledge database unavailable (%s): reindexing this worker only", exc)
                return self._swap(read_corpus(self.bot.settings), 0)
            fresh, version = import_corpus(self.bot.settings, self.versions, latest, author)
            return self._go_live(fresh, version)

    def publish(self, knowledge: Knowledge, author: str, summary: str) -> CorpusInfo:
        """Publish some knowledge (staff's draft) as a new version, everywhere."""
        with self._lock:
            built = build_from(self.bot.settings, knowledge)  # built first: a draft that can't be served is not stored
            version = self.versions.add(knowledge, author, summary)
            return self._go_live(knowledge, version, built)

    def rollback(self, version: int, author: str) -> CorpusInfo:
        """Publish a copy of an earlier version; LookupError when there is no such version."""
        with self._lock:
            found = self.versions.get(version)
            if found is None:
                raise LookupError(version)
            old = found[1]
            lines = changes(self.knowledge, old)
            new = self.versions.add(old, author, "\n".join([f"rolled back to version {version}", *lines]))
            draft = self.versions.draft()
            if draft is None or draft.knowledge.digest == self.knowledge.digest:  # no unpublished work to keep
                self.versions.save_draft(old, new, author)
            return self._go_live(old, new)

    def follow(self) -> None:
        """Start rebuilding when another process published a version; at most one cheap look per interval.

        The rebuild runs on a thread of its own: this request, and every one until the new index is
        ready, is answered from the old one (at 100,000 passages a rebuild takes seconds).
        """
        now = time.monotonic()
        if now - self._checked < self.interval:
            return
        self._checked = now
        latest = self.store.meta(VERSION_KEY)
        if latest is None or latest == self.seen:
            return
        if not self._lock.acquire(blocking=False):  # a rebuild is running already
            return
        if latest == self.seen:
            self._lock.release()
            return
        self.seen = latest  # one attempt per version: a broken one must not rebuild on every request
        try:
            threading.Thread(target=self._catch_up, args=(latest,), name="faqbot-reindex", daemon=True).start()
        except RuntimeError:  # no thread to be had: try again on a later request
            self.seen = None
            self._lock.release()

    def _catch_up(self, token: str) -> None:
        try:
            wanted = json.loads(token).get("version") if token.startswith("{") else None
            found = self.versions.get(int(wanted)) if wanted else self.versions.latest()
            if found is None:
                log.error("published knowledge version %s not found, keeping the old index", wanted)
                return
            info = self._swap(found[1], found[0].version)
            log.info("picked up knowledge version %d: %d passages", info.version, info.passages)
        except Exception:  # whatever went wrong, the old index keeps serving
            log.exception("rebuilding the index failed, keeping the old one")
        finally:
            self._lock.release()

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait until no rebuild is running (for tests and tools); False on timeout."""
        if self._lock.acquire(timeout=timeout):
            self._lock.release()
            return True
        return False


def init_app(app: Flask) -> Reindexer:
    """Attach a Reindexer and follow published versions before each request."""
    reindexer = Reindexer(app)
    app.extensions["faqbot.reindexer"] = reindexer
    app.before_request(reindexer.follow)
    return reindexer
