"""The embedded SQLite store: the default, one file, nothing to set up."""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
import weakref
from pathlib import Path

from ..answering.conversation import Turn
from .base import Store
from .turns import WAIT, TurnFile, process_group, process_lock, writers_turn

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
CREATE TABLE IF NOT EXISTS knowledge (
    version INTEGER PRIMARY KEY, created REAL NOT NULL, author TEXT NOT NULL,
    summary TEXT NOT NULL, content TEXT NOT NULL);
"""
STAT_EVERY = 0.5  # seconds between checks that the database file is still the one we opened
# Seconds a visitor's call may wait for the database (a locked database must not stall visitors:
# WAIT, in turns.py), and a call of the background question-log writer, which no one waits for.
PATIENT_WAIT = 2.0
# SQLite checkpoints the WAL in the commit that takes it past 1,000 pages, and in every commit after
# that until the log can start afresh: under load 2-7% of commits took 0.5-10 ms, in bursts.
# A thread in each writing process checkpoints every CHECKPOINT_EVERY seconds instead, beside the
# writers (PASSIVE), so commits rarely do; under steady load the log only starts afresh once a
# commit takes it past FALLBACK_CHECKPOINT_PAGES (about 40 MB), and that commit's checkpoint copies
# only what was written since the thread's last one.
CHECKPOINT_EVERY = 0.02
FALLBACK_CHECKPOINT_PAGES = 10_000


class SQLiteStore(Store):
    """Keep state in one SQLite file (WAL mode), one connection per thread and process."""

    ERRORS = (sqlite3.Error, OSError)
    DATA_ERRORS = (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError, sqlite3.ProgrammingError)

    def __init__(self, path: str, session_ttl: int, max_turns: int, retention_days: float):
        super().__init__(session_ttl, max_turns, retention_days)
        self.path = path
        self._local = threading.local()
        self._checkpointer = 0  # the pid whose checkpointing thread runs
        self.written = 0  # commits by this process: the checkpointing thread idles while it stands still

    def connect(self) -> sqlite3.Connection:
        """Return this thread's connection (a new one after a fork: sqlite handles don't survive it)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid != os.getpid():
            self.close()
            conn = None
        if conn is not None and self._replaced():
            log.warning("the database file %s was deleted or replaced while open; opening it afresh "
                        "(rows written since the change went to the old file)", self.path)
            self.close()
            conn = None
        if conn is None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=WAIT, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_CHECKPOINT_PAGES}")
            conn.executescript(SCHEMA)
            self._local.conn, self._local.pid = conn, os.getpid()
            self._local.inode = os.stat(self.path).st_ino
            self._local.turns = self._open_turns()
        return conn

    def _open_turns(self) -> TurnFile | None:
        """Open the file whose flock orders the writers; None (SQLite alone orders them) if it can't be."""
        try:
            return TurnFile(os.open(self.path + "-writers", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644),
                            process_lock(self.path + "-writers"))
        except OSError:
            return None

    def _turn(self, conn: sqlite3.Connection, wait: float = WAIT):
        """Hold the writers' turn for one transaction, waiting at most `wait` in all (turns.py)."""
        return writers_turn(conn, self._local.turns, wait)

    def _run(self, fn, patient: bool = False):
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
            if self._local.turns is not None:
                self._local.turns.close()  # which also ends a turn left held
                self._local.turns = None

    def save_turn(self, session_id: str, turn: Turn, now: float) -> bool:
        """Append a turn to its session, waiting at most WAIT; False when the database failed.

        Turns saved by the process's threads at the same moment share one transaction (turns.Group).
        """
        saved = process_group(self.path).join((session_id, turn, now), self._save_turns, WAIT)
        if saved:  # a failed write is no commit; sweeping old rows is the background writer's (_wrote)
            self._committed()
        return saved

    def _save_turns(self, items: list, wait: float) -> bool:
        """Append (session id, turn, time) items in one transaction; False when the database failed."""
        def write(conn):
            # What is left of the leader's wait; all of it (no busy_timeout to reset) when it queued for none.
            with self._turn(conn, wait if wait < WAIT - 0.01 else WAIT), conn:
                conn.execute("BEGIN IMMEDIATE")
                for item in items:
                    self._append(conn, *item)
            return True
        return bool(self._safely("session write", write, False, writes=True))

    def _append(self, conn: sqlite3.Connection, session_id: str, turn: Turn, now: float) -> None:
        row = conn.execute("SELECT updated, turns FROM sessions WHERE id = ?", (session_id,)).fetchone()
        turns = json.loads(row[1]) if row and row[0] >= now - self.session_ttl else []
        turns = (turns + [turn.__dict__])[-self.max_turns:]
        conn.execute("INSERT INTO sessions (id, updated, turns) VALUES (?, ?, ?) "
                     "ON CONFLICT (id) DO UPDATE SET updated = excluded.updated, turns = excluded.turns",
                     (session_id, now, json.dumps(turns)))

    def _write_rows(self, conn: sqlite3.Connection, rows: list) -> None:
        with self._turn(conn, PATIENT_WAIT), conn:
            conn.execute("BEGIN IMMEDIATE")
            for row in rows:
                if not row.session_saved:
                    self._append(conn, row.session_id, row.turn, row.created)
            conn.executemany(
                "INSERT OR IGNORE INTO questions (reply_id, session_id, created, message, type, confidence, "
                "top_passage) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(r.turn.reply_id, r.session_id, r.created, r.turn.message, r.turn.type, r.confidence,
                  r.top_passage) for r in rows])

    def _wrote(self, now: float) -> None:
        self._committed()
        super()._wrote(now)

    def _committed(self) -> None:
        """Count a commit of this process, which the checkpointing thread (started now) copies."""
        self.written += 1
        self._start_checkpoints()

    def add_feedback(self, session_id: str, reply_id: str, vote: str, comment: str | None) -> bool | None:
        """Store a vote on a reply; False when that reply is unknown, None when the database is down."""
        def write(conn):
            with self._turn(conn), conn:
                conn.execute("BEGIN IMMEDIATE")  # check, delete and insert as one: two workers may race
                # The log row may still be on its way (written in the background): the session has the turn.
                known = conn.execute(
                    "SELECT 1 FROM questions WHERE reply_id = ? AND session_id = ? UNION ALL "
                    "SELECT 1 FROM sessions, json_each(sessions.turns) WHERE sessions.id = ? "
                    "AND json_extract(json_each.value, '$.reply_id') = ? LIMIT 1",
                    (reply_id, session_id, session_id, reply_id)).fetchone()
                if not known:
                    return False
                # One vote per reply: a visitor who changes their mind replaces their vote.
                conn.execute("DELETE FROM feedback WHERE reply_id = ?", (reply_id,))
                conn.execute(
                    "INSERT INTO feedback (reply_id, session_id, vote, comment, created) VALUES (?, ?, ?, ?, ?)",
                    (reply_id, session_id, vote, comment, time.time()),
                )
                return True
        return self._safely("feedback write", write, None, writes=True)

    def _start_checkpoints(self) -> None:
        """Start this process's checkpointing thread, once it writes (never in a master before the fork)."""
        if self._checkpointer == os.getpid():
            return
        self._checkpointer = os.getpid()
        # A weak reference, so a store dropped (as in tests, one per app) ends its thread.
        thread = threading.Thread(target=_checkpoint_forever, args=(weakref.ref(self),),
                                  name="faqbot-sqlite-checkpoint", daemon=True)
        try:
            thread.start()
        except RuntimeError as exc:  # out of threads: commits checkpoint past the fallback meanwhile
            self._checkpointer = 0  # the next write tries again
            log.debug("could not start the checkpointing thread: %s", exc)

    def checkpoint(self) -> None:
        """Copy the WAL into the database file beside the writers, never making one wait (PASSIVE)."""
        try:
            self.connect().execute("PRAGMA wal_checkpoint(PASSIVE)")
        except self.ERRORS as exc:
            # Quietly: the visitors' writes report a database in trouble, and commits still checkpoint.
            log.debug("background checkpoint failed: %s", exc)
            self.close()

    def healthy(self) -> bool:
        # Also notice a deleted file: the open connection would keep writing into it unseen.
        return super().healthy() and Path(self.path).exists()

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


def _checkpoint_forever(ref: weakref.ref) -> None:
    done = -1
    while True:
        time.sleep(CHECKPOINT_EVERY)
        store = ref()
        if store is None or store._checkpointer != os.getpid():
            return
        if store.written != done:  # an idle service has nothing to copy
            done = store.written
            store.checkpoint()
        del store
