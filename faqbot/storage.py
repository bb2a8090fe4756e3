"""The embedded SQLite store: recent turns per session, the question log and feedback."""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

from .conversation import Turn

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, updated REAL NOT NULL, turns TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_updated ON sessions (updated);
CREATE TABLE IF NOT EXISTS questions (
    reply_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, created REAL NOT NULL,
    message TEXT NOT NULL, type TEXT NOT NULL, confidence REAL, top_passage TEXT);
CREATE INDEX IF NOT EXISTS questions_created ON questions (created);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY, reply_id TEXT NOT NULL, session_id TEXT NOT NULL,
    vote TEXT NOT NULL, comment TEXT, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS feedback_created ON feedback (created);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
PURGE_EVERY = 60.0  # seconds between sweeps of expired sessions and old log rows
STAT_EVERY = 0.5  # seconds between checks that the database file is still the one we opened


class Store:
    """Keep conversations and the question log; never let a database fault stop an answer."""

    def __init__(self, path: str, session_ttl: int, max_turns: int, retention_days: float):
        self.path = path
        self.session_ttl = session_ttl
        self.max_turns = max_turns
        self.retention = retention_days * 86400
        self._local = threading.local()
        self._last_purge = 0.0

    @classmethod
    def from_config(cls, config) -> "Store":
        """Build the store from the app's configuration."""
        return cls(config["DATABASE"], config["SESSION_TTL"], config["SESSION_TURNS"], config["LOG_RETENTION_DAYS"])

    def connect(self) -> sqlite3.Connection:
        """Return this thread's connection (a new one after a fork: sqlite handles don't survive it)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and (self._local.pid != os.getpid() or self._replaced()):
            self.close()
            conn = None
        if conn is None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=1, isolation_level=None)  # a locked database must not stall visitors
            conn.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(SCHEMA)
            self._local.conn, self._local.pid = conn, os.getpid()
            self._local.inode = os.stat(self.path).st_ino
        return conn

    def _replaced(self) -> bool:
        """Tell whether the database file was deleted or swapped since we opened it.

        An open handle keeps writing into a deleted file, where every new row would be lost;
        a stat every STAT_EVERY seconds bounds that to a moment's rows.
        """
        now = time.monotonic()
        if now - getattr(self._local, "checked", 0.0) < STAT_EVERY:
            return False
        self._local.checked = now
        try:
            return os.stat(self.path).st_ino != self._local.inode
        except OSError:
            return True

    def close(self) -> None:
        """Close this thread's connection (before a fork, or at shutdown)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _safely(self, what: str, fn, default=None):
        try:
            return fn(self.connect())
        except (sqlite3.Error, OSError) as exc:
            log.warning("database %s failed, carrying on without it: %s", what, exc)
            self.close()  # reconnect next time: the file may have been replaced
            return default

    def history(self, session_id: str) -> list[Turn]:
        """Return a session's recent turns, oldest first ([] when new or expired)."""
        def read(conn):
            row = conn.execute("SELECT updated, turns FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None or row[0] < time.time() - self.session_ttl:
                return []
            return [Turn(**t) for t in json.loads(row[1])]
        return self._safely("read", read, [])

    def record(self, session_id: str, turn: Turn, confidence: float, top_passage: str | None) -> None:
        """Append a turn to its session and to the question log."""
        now = time.time()

        def write(conn):
            with conn:  # one transaction: the session and its log row land together
                conn.execute("BEGIN IMMEDIATE")
                row = conn.execute("SELECT updated, turns FROM sessions WHERE id = ?", (session_id,)).fetchone()
                turns = json.loads(row[1]) if row and row[0] >= now - self.session_ttl else []
                turns = (turns + [turn.__dict__])[-self.max_turns:]
                conn.execute(
                    "INSERT INTO sessions (id, updated, turns) VALUES (?, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET updated = excluded.updated, turns = excluded.turns",
                    (session_id, now, json.dumps(turns)),
                )
                conn.execute(
                    "INSERT OR REPLACE INTO questions VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (turn.reply_id, session_id, now, turn.message, turn.type, confidence, top_passage),
                )
        self._safely("write", write)
        if now - self._last_purge > PURGE_EVERY:
            self.purge(now)

    def add_feedback(self, session_id: str, reply_id: str, vote: str, comment: str | None) -> bool | None:
        """Store a vote on a reply; False when that reply is unknown, None when the database is down."""
        def write(conn):
            with conn:
                conn.execute("BEGIN IMMEDIATE")  # check, delete and insert as one: two workers may race
                known = conn.execute(
                    "SELECT 1 FROM questions WHERE reply_id = ? AND session_id = ?", (reply_id, session_id)
                ).fetchone()
                if not known:
                    return False
                # One vote per reply: a visitor who changes their mind replaces their vote.
                conn.execute("DELETE FROM feedback WHERE reply_id = ?", (reply_id,))
                conn.execute(
                    "INSERT INTO feedback (reply_id, session_id, vote, comment, created) VALUES (?, ?, ?, ?, ?)",
                    (reply_id, session_id, vote, comment, time.time()),
                )
                return True
        return self._safely("feedback write", write, None)

    def purge(self, now: float | None = None) -> None:
        """Delete expired sessions and log rows older than the retention period."""
        now = now or time.time()
        self._last_purge = now

        def sweep(conn):
            with conn:
                conn.execute("DELETE FROM sessions WHERE updated < ?", (now - self.session_ttl,))
                conn.execute("DELETE FROM questions WHERE created < ?", (now - self.retention,))
                conn.execute("DELETE FROM feedback WHERE created < ?", (now - self.retention,))
        self._safely("purge", sweep)

    def meta(self, key: str) -> str | None:
        """Read a shared setting (such as the corpus version); None when unset or unreadable."""
        def read(conn):
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return row[0] if row else None
        return self._safely("meta read", read)

    def set_meta(self, key: str, value: str) -> bool:
        """Write a shared setting every worker can see; False when the database is down."""
        def write(conn):
            with conn:
                conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                             "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
            return True
        return bool(self._safely("meta write", write, False))

    def reachable(self) -> bool:
        """Open the database afresh (never creating it) and read its schema.

        The store's own long-lived connection would still answer after the file was deleted.
        """
        try:
            conn = sqlite3.connect(Path(self.path).resolve().as_uri() + "?mode=rw", uri=True, timeout=1)
            try:
                conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
            finally:
                conn.close()
        except sqlite3.Error:
            return False
        return True

    def ping(self) -> bool:
        """Tell whether the database answers."""
        return bool(self._safely("ping", lambda c: c.execute("SELECT 1").fetchone(), False))
