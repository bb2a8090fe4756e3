"""The knowledge's versions and staff's draft in the shared database (SQLite or PostgreSQL).

Published versions are rows never changed (a rollback adds a copy of an earlier one), so every
instance that reads version N reads the same thing. The draft is one JSON value in `meta`: staff
edit it in small steps, and it goes live only when published.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

from ..knowledge.content import Knowledge, dumps, from_json
from .base import Store, StoreUnavailable

DRAFT_KEY = "knowledge_draft"
SEED_KEY = "knowledge_seed"  # the fingerprint of the corpus/ files last imported


@dataclass(frozen=True)
class Version:
    version: int
    created: float
    author: str
    summary: str  # what changed, one change per line

    def as_dict(self) -> dict:
        return {"version": self.version, "created": self.created, "author": self.author,
                "changes": self.summary.splitlines()}


@dataclass(frozen=True)
class Draft:
    knowledge: Knowledge
    base: int  # the published version it started from
    updated: float
    author: str


class KnowledgeStore:
    """Read and write versions and the draft; staff calls raise StoreUnavailable when the database is down."""

    def __init__(self, store: Store):
        self.store = store

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.store._query(sql, params)

    def latest(self) -> tuple[Version, Knowledge] | None:
        """The published version (the newest), or None on a fresh database."""
        rows = self._read("SELECT version, created, author, summary, content FROM knowledge "
                          "ORDER BY version DESC LIMIT 1")
        return (Version(*rows[0][:4]), from_json(rows[0][4])) if rows else None

    def get(self, version: int) -> tuple[Version, Knowledge] | None:
        rows = self._read("SELECT version, created, author, summary, content FROM knowledge WHERE version = ?",
                          (version,))
        return (Version(*rows[0][:4]), from_json(rows[0][4])) if rows else None

    def versions(self, limit: int = 100) -> list[Version]:
        """Published versions, newest first."""
        rows = self._read("SELECT version, created, author, summary FROM knowledge ORDER BY version DESC LIMIT ?",
                          (limit,))
        return [Version(*r) for r in rows]

    def add(self, knowledge: Knowledge, author: str, summary: str) -> int:
        """Publish: store a new version (one statement, so two publishers cannot get the same number)."""
        sql = self.store._sql("INSERT INTO knowledge (version, created, author, summary, content) "
                              "SELECT COALESCE(MAX(version), 0) + 1, ?, ?, ?, ? FROM knowledge RETURNING version")
        params = (time.time(), author[:100], summary, dumps(knowledge))

        def write(conn):
            return conn.execute(sql, params).fetchone()[0]
        try:
            return int(self.store._run(write, patient=True))
        except self.store.ERRORS as exc:
            self.store._failed("knowledge write", exc)
            raise StoreUnavailable(str(exc)) from exc

    def draft(self) -> Draft | None:
        raw = self.read_meta(DRAFT_KEY)
        if raw is None:
            return None
        data = json.loads(raw)
        return Draft(from_json(data["content"]), int(data["base"]), float(data["updated"]), data.get("author", ""))

    def save_draft(self, knowledge: Knowledge, base: int, author: str) -> None:
        value = json.dumps({"content": json.loads(dumps(knowledge)), "base": base, "updated": time.time(),
                            "author": author[:100]}, ensure_ascii=False)
        if not self.store.set_meta(DRAFT_KEY, value):
            raise StoreUnavailable("the draft could not be saved")

    def read_meta(self, key: str) -> str | None:
        """A shared setting, for staff: StoreUnavailable when the database is down (Store.meta says None)."""
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def seed(self) -> str | None:
        """The fingerprint of the corpus/ files last imported (None before the first import)."""
        return self.store.meta(SEED_KEY)

    def set_seed(self, fingerprint: str) -> None:
        self.store.set_meta(SEED_KEY, fingerprint)
