"""Swap in a new index without downtime, in this worker and, through the database, in every other."""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import replace

from flask import Flask

from .building import (VERSION_KEY, CorpusInfo, announce, build, build_from, describe,  # noqa: F401
                       import_corpus, published, read_corpus)
from .knowledge.content import Knowledge, changes
from .answering.pipeline import Bot
from .storage.base import Store, StoreUnavailable
from .storage.knowledge import KnowledgeStore

log = logging.getLogger(__name__)


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

    def publish(self, knowledge: Knowledge, author: str, summary: str, bot: Bot | None = None) -> CorpusInfo:
        """Publish some knowledge (staff's draft) as a new version, everywhere.

        `bot`: one already built on this knowledge (the draft's, which the evaluation ran on), served as is.
        """
        with self._lock:
            # Built first: a draft that can't be served is not stored.
            built = (bot, describe(knowledge, bot.index.passages)) if bot else build_from(self.bot.settings, knowledge)
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
