"""The PostgreSQL store: state shared by every instance behind a load balancer.

psycopg 3 with a small connection pool per process (opened after gunicorn forks: a pool's
sockets and threads don't survive a fork). The schema is created and migrated on first use,
under an advisory lock so instances starting together don't race.
"""
from __future__ import annotations

import logging
import os
import threading
import time

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from ..answering.conversation import Turn
from .base import Store

log = logging.getLogger(__name__)

# Each step runs once, in order; the number of steps applied is kept in meta.schema_version.
# Add a step to change the schema: never edit one that has shipped.
MIGRATIONS = [
    """
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY, updated DOUBLE PRECISION NOT NULL, turns JSONB NOT NULL);
    CREATE INDEX IF NOT EXISTS sessions_updated ON sessions (updated);
    CREATE TABLE IF NOT EXISTS questions (
        reply_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
        message TEXT NOT NULL, type TEXT NOT NULL, confidence DOUBLE PRECISION, top_passage TEXT);
    CREATE INDEX IF NOT EXISTS questions_created ON questions (created);
    CREATE TABLE IF NOT EXISTS feedback (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, reply_id TEXT NOT NULL UNIQUE,
        session_id TEXT NOT NULL, vote TEXT NOT NULL, comment TEXT, created DOUBLE PRECISION NOT NULL);
    CREATE INDEX IF NOT EXISTS feedback_created ON feedback (created);
    """,
]
SCHEMA_LOCK = 7_351_922_014  # any constant: serialises migrations across instances

# One statement, so one round trip and one transaction: log the question, then append the turn to
# its session, keeping the last max_turns (a session quiet for longer than its TTL starts afresh).
RECORD = """
WITH logged AS (
    INSERT INTO questions (reply_id, session_id, created, message, type, confidence, top_passage)
    VALUES (%(reply_id)s, %(sid)s, %(now)s, %(message)s, %(type)s, %(confidence)s, %(top)s)
    ON CONFLICT (reply_id) DO NOTHING)
INSERT INTO sessions AS s (id, updated, turns) VALUES (%(sid)s, %(now)s, jsonb_build_array(%(turn)s::jsonb))
ON CONFLICT (id) DO UPDATE SET updated = excluded.updated, turns = CASE
    WHEN s.updated < %(expired)s THEN excluded.turns
    ELSE (SELECT jsonb_agg(t.value ORDER BY t.n) FROM jsonb_array_elements(s.turns || excluded.turns)
          WITH ORDINALITY AS t(value, n) WHERE t.n > jsonb_array_length(s.turns) + 1 - %(keep)s) END
"""
# One vote per reply (a changed mind replaces it), and only on a reply this session was given.
FEEDBACK = """
INSERT INTO feedback (reply_id, session_id, vote, comment, created)
SELECT reply_id, session_id, %s, %s, %s FROM questions WHERE reply_id = %s AND session_id = %s
ON CONFLICT (reply_id) DO UPDATE SET vote = excluded.vote, comment = excluded.comment, created = excluded.created
RETURNING 1
"""


class Skipped(PoolTimeout):
    """The database was left alone for this call: marked down, or another thread is trying it."""


class PostgresStore(Store):
    """Keep state in PostgreSQL; when it is down, skip it for a moment instead of stalling visitors."""

    ERRORS = (psycopg.Error, PoolTimeout, OSError)
    # Only these mean the server is unreachable; any other error (bad data, a slow staff query
    # hitting the statement timeout) fails that one call without marking the database down.
    OUTAGES = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout, OSError)
    COMMENTS = "string_agg(f.comment, ' | ')"
    RETRY_MIN, RETRY_MAX = 0.5, 8.0  # seconds to leave the database alone after a failure, doubling
    LOCK_TIMEOUT = 5.0  # seconds a migration waits for another instance's schema lock before retrying later

    def __init__(self, url: str, session_ttl: int, max_turns: int, retention_days: float,
                 pool_size: int = 4, timeout: float = 0.5):
        super().__init__(session_ttl, max_turns, retention_days)
        self.url = url
        self.pool_size = max(1, pool_size)
        self.timeout = timeout  # the longest a visitor waits for a connection
        self._pool: ConnectionPool | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self._probing = threading.Lock()
        self._migrated = False
        self._down_until = 0.0
        self._retry = self.RETRY_MIN

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _connect_kwargs(self) -> dict:
        # Bound connecting, and (in _configure) every statement. A server that is frozen rather than
        # down still answers TCP, so neither bound applies: such a request waits until gunicorn's
        # worker timeout. Keepalives at least notice a vanished host.
        return {"autocommit": True, "connect_timeout": max(1, round(self.timeout * 4)),
                "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 2}

    def _configure(self, conn: psycopg.Connection) -> None:
        conn.execute(f"SET statement_timeout = {int(self.timeout * 4000)}")

    def _get_pool(self) -> ConnectionPool:
        if self._pool is None or self._pid != os.getpid():
            with self._lock:
                if self._pool is None or self._pid != os.getpid():
                    self._pool = None  # a parent's pool belongs to the parent: never close it from here
                    self.migrate()
                    self._pool = ConnectionPool(
                        self.url, min_size=1, max_size=self.pool_size, open=True, name="faqbot",
                        kwargs=self._connect_kwargs(), configure=self._configure,
                        # One round trip per checkout: a connection broken by a server restart is
                        # replaced before use instead of costing a visitor's log row.
                        check=ConnectionPool.check_connection,
                        timeout=self.timeout, reconnect_timeout=60)
                    self._pid = os.getpid()
        return self._pool

    def migrate(self) -> None:
        """Create or update the schema; idempotent, and safe with many instances starting at once."""
        if self._migrated:
            return
        with psycopg.connect(self.url, **self._connect_kwargs()) as conn, conn.transaction():
            # Another instance's long migration: give up and retry later rather than hold a worker.
            conn.execute(f"SET LOCAL lock_timeout = '{round(self.LOCK_TIMEOUT * 1000)}ms'")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            conn.execute(MIGRATIONS[0].split(";")[0])  # meta first: it holds the version
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            done = int(row[0]) if row else 0
            if done > len(MIGRATIONS):  # a newer release migrated it: never write an older version back
                log.warning("database schema is version %d, newer than this release's %d", done, len(MIGRATIONS))
            for step in MIGRATIONS[done:]:
                conn.execute(step)
            if done < len(MIGRATIONS):
                conn.execute("INSERT INTO meta VALUES ('schema_version', %s) ON CONFLICT (key) DO UPDATE "
                             "SET value = excluded.value", (str(len(MIGRATIONS)),))
        self._migrated = True

    @property
    def _in_outage(self) -> bool:
        return self._retry != self.RETRY_MIN  # the back-off grows from its minimum only after a failure

    def _run(self, fn):
        if not self._in_outage:
            return self._call(fn)
        if time.monotonic() < self._down_until:
            raise Skipped("database marked down; retrying shortly")
        # One thread tries the database; the others carry on without it until that one has
        # succeeded or backed off, instead of each waiting on a server that may still be down.
        if not self._probing.acquire(blocking=False):
            raise Skipped("database being tried by another thread; carrying on without it")
        try:
            # A pool with no connection would hold this visitor for the whole timeout; a direct
            # connection attempt to a server that is still down is refused at once.
            psycopg.connect(self.url, **self._connect_kwargs()).close()
            result = self._call(fn)
            log.warning("database is back")
            self._retry = self.RETRY_MIN
            return result
        except self.OUTAGES as exc:
            if self._is_outage(exc):
                self._back_off()  # before another thread may try
            raise
        finally:
            self._probing.release()

    def _call(self, fn):
        with self._get_pool().connection() as conn:
            return fn(conn)

    def _is_outage(self, exc: Exception) -> bool:
        return isinstance(exc, self.OUTAGES) and not isinstance(exc, psycopg.errors.QueryCanceled)

    def _back_off(self) -> None:
        if time.monotonic() < self._down_until:
            return  # another thread's failure has just started this back-off
        self._down_until = time.monotonic() + self._retry
        self._retry = min(self._retry * 2, self.RETRY_MAX)

    def _failed(self, what: str, exc: Exception) -> None:
        if isinstance(exc, Skipped):
            return  # not a failure: the one that started the back-off was counted
        if not self._is_outage(exc):
            log.warning("database %s failed: %s", what, exc)
            return
        if not self._in_outage:
            super()._failed(what, exc)  # one warning per outage, not one per request
        self._back_off()

    def close(self) -> None:
        """Close this process's pool (the next use opens a new one)."""
        if self._pool is not None and self._pid == os.getpid():
            self._pool.close()
        self._pool = None

    def record(self, session_id: str, turn: Turn, confidence: float, top_passage: str | None) -> None:
        """Append a turn to its session and to the question log, as one statement."""
        now = time.time()
        params = {"reply_id": turn.reply_id, "sid": session_id, "now": now, "message": turn.message,
                  "type": turn.type, "confidence": confidence, "top": top_passage, "turn": Jsonb(turn.__dict__),
                  "expired": now - self.session_ttl, "keep": self.max_turns}
        self._safely("write", lambda conn: conn.execute(RECORD, params))
        self._maybe_purge(now)

    def add_feedback(self, session_id: str, reply_id: str, vote: str, comment: str | None) -> bool | None:
        """Store a vote on a reply; False when that reply is unknown, None when the database is down."""
        def write(conn):
            return conn.execute(FEEDBACK, (vote, comment, time.time(), reply_id, session_id)).fetchone() is not None
        return self._safely("feedback write", write, None)

    def reachable(self) -> bool:
        """Ask the server directly, past the pool and the back-off."""
        try:
            with psycopg.connect(self.url, **self._connect_kwargs()) as conn:
                conn.execute("SELECT 1 FROM meta LIMIT 1")
        except psycopg.Error:
            return False
        return True
