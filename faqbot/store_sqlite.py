"""The embedded SQLite store: the default, one file, nothing to set up."""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path

from .conversation import Turn
from .storage import Store

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
STAT_EVERY = 0.5  # seconds between checks that the database file is still the one we opened


class SQLiteStore(Store):
    """Keep state in one SQLite file (WAL mode), one connection per thread and process."""

    ERRORS = (sqlite3.Error, OSError)

    def __init__(self, path: str, session_ttl: int, max_turns: int, retention_days: float):
        super().__init__(session_ttl, max_turns, retention_days)
        self.path = path
        self._local = threading.local()

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

    def _run(self, fn):
        return fn(self.connect())

    def _failed(self, what: str, exc: Exception) -> None:
        super()._failed(what, exc)
        self.close()  # reconnect next time: the file may have been replaced

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

    def record(self, session_id: str, turn: Turn, confidence: float, top_passage: str | None) -> None:
        """Append a turn to its session and to the question log, as one transaction."""
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
                    "INSERT OR REPLACE INTO questions (reply_id, session_id, created, message, type, confidence, "
                    "top_passage) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (turn.reply_id, session_id, now, turn.message, turn.type, confidence, top_passage),
                )
        self._safely("write", write)
        self._maybe_purge(now)

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
