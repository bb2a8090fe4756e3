"""Swap in a new index without downtime, in this worker and, through the database, in every other."""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import Flask

from .config import Settings
from .knowledge.corpus import CorpusError, Document, load_corpus
from .knowledge.passages import by_document, split_corpus
from .answering.pipeline import Bot
from .answering.semantic import load_meaning
from .storage.base import Store

log = logging.getLogger(__name__)
VERSION_KEY = "corpus_version"


@dataclass(frozen=True)
class DocInfo:
    id: str
    title: str
    file: str
    passages: int
    questions: int  # visitor phrasings ("Q:" lines) attached to its paragraphs


@dataclass(frozen=True)
class CorpusInfo:
    """What a bot was built from: a content hash, when, and the documents."""

    hash: str
    built: float
    documents: tuple[DocInfo, ...]

    @property
    def passages(self) -> int:
        return sum(d.passages for d in self.documents)

    def as_dict(self) -> dict:
        return {"hash": self.hash, "built": self.built, "documents": [asdict(d) for d in self.documents],
                "passages": self.passages}


def fingerprint(docs: list[Document]) -> str:
    """Hash what was loaded (not file times), so the same text always has the same version."""
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(repr((doc.id, doc.title, doc.blocks)).encode("utf-8"))
    return digest.hexdigest()[:16]


def describe(docs: list[Document], passages) -> CorpusInfo:
    """Summarise a loaded corpus for the console."""
    groups = by_document(passages)
    infos = []
    for doc in docs:
        mine = groups.get(doc.id, [])
        infos.append(DocInfo(doc.id, doc.title, Path(doc.path).name, len(mine), sum(len(p.questions) for p in mine)))
    return CorpusInfo(fingerprint(docs), time.time(), tuple(infos))


def build(settings: Settings, strict: bool = True, progress=None) -> tuple[Bot, CorpusInfo]:
    """Load the corpus and build a bot and its description; raises CorpusError listing every problem.

    A reindex is always strict; start-up follows CORPUS_STRICT, skipping bad files with a warning.
    """
    docs, problems = load_corpus(settings.CORPUS_DIR, strict=strict)
    for problem in problems:
        log.warning("corpus file skipped: %s", problem)
    passages = split_corpus(docs)
    meaning, status = load_meaning(settings.SEMANTIC, settings.SEMANTIC_MODEL_DIR, settings.EMBEDDING_CACHE_DIR)
    bot = Bot(settings, passages, meaning=meaning, progress=progress)
    bot.semantic_status = status  # for /readyz: "ok", "off" or "unavailable: why"
    # Described here, while the documents are at hand: they are not kept, and reading the
    # files again to describe them would cost a second full load.
    return bot, describe(docs, passages)


def publish(store: Store, info: CorpusInfo) -> str | None:
    """Record a new corpus version for every worker to pick up; return it, or None when not written."""
    # The time makes each reindex a new version, so workers reread files even if the hash repeats.
    token = json.dumps({"hash": info.hash, "at": time.time()})
    if store.set_meta(VERSION_KEY, token):
        return token
    log.warning("could not record the corpus version: other workers keep their index until restarted")
    return None


class Reindexer:
    """Own one app's bot: rebuild it on request, and follow versions other processes publish."""

    def __init__(self, app: Flask):
        self.app = app
        self.store: Store = app.extensions["faqbot.store"]
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
        """Describe the corpus the current bot was built from (the app factory's, then each swap's)."""
        return self.app.extensions["faqbot.corpus"]

    def _swap(self, settings: Settings) -> CorpusInfo:
        bot, info = build(settings)
        # One reference assignment: a request already running keeps the bot it started with.
        self.app.extensions["faqbot"] = bot
        self.app.extensions["faqbot.corpus"] = info
        return info

    def reindex(self) -> CorpusInfo:
        """Validate and swap in a new index here, then tell the other workers; raises CorpusError."""
        with self._lock:
            started = time.perf_counter()
            info = self._swap(self.bot.settings)
            self.seen = publish(self.store, info) or self.seen
        log.info("reindexed %d documents, %d passages (version %s) in %.0f ms", len(info.documents),
                 info.passages, info.hash, (time.perf_counter() - started) * 1000)
        return info

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
        self.seen = latest  # one attempt per version: a broken corpus must not rebuild on every request
        try:
            threading.Thread(target=self._catch_up, args=(latest,), name="faqbot-reindex", daemon=True).start()
        except RuntimeError:  # no thread to be had: try again on a later request
            self.seen = None
            self._lock.release()

    def _catch_up(self, version: str) -> None:
        try:
            info = self._swap(self.bot.settings)
            log.info("picked up corpus version %s: %d passages", info.hash, info.passages)
            published = json.loads(version).get("hash") if version.startswith("{") else None
            if published and published != info.hash:
                log.warning("this instance's corpus/ (version %s) differs from the one published (%s): "
                            "deploy the same corpus to every instance", info.hash, published)
        except CorpusError as exc:
            log.error("new corpus version refused, keeping the old index: %s", "; ".join(exc.problems))
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
