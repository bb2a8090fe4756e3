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
from .watchdog import Watchdog

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
    # Published versions of the knowledge (articles, staff edits, clinic answers): never changed,
    # a rollback adds a copy of an earlier one.
    """
    CREATE TABLE IF NOT EXISTS knowledge (
        version INTEGER PRIMARY KEY, created DOUBLE PRECISION NOT NULL, author TEXT NOT NULL,
        summary TEXT NOT NULL, content TEXT NOT NULL);
    """,
]
SCHEMA_LOCK = 7_351_922_014  # any constant: serialises migrations across instances

# Append a turn to its session, keeping the last max_turns (a session quiet for longer than its TTL
# starts afresh): one statement, so one round trip.
SESSION = """
INSERT INTO sessions AS s (id, updated, turns) VALUES (%(sid)s, %(now)s, jsonb_build_array(%(turn)s::jsonb))
ON CONFLICT (id) DO UPDATE SET updated = excluded.updated, turns = CASE
    WHEN s.updated < %(expired)s THEN excluded.turns
    ELSE (SELECT jsonb_agg(t.value ORDER BY t.n) FROM jsonb_array_elements(s.turns || excluded.turns)
          WITH ORDINALITY AS t(value, n) WHERE t.n > jsonb_array_length(s.turns) + 1 - %(keep)s) END
"""
QUESTION = """
INSERT INTO questions (reply_id, session_id, created, message, type, confidence, top_passage)
VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (reply_id) DO NOTHING
"""
# One vote per reply (a changed mind replaces it), and only on a reply this session was given: its
# log row may still be on its way (written in the background), so the session's turns count too.
FEEDBACK = """
INSERT INTO feedback (reply_id, session_id, vote, comment, created)
SELECT %(rid)s, %(sid)s, %(vote)s, %(comment)s, %(now)s
WHERE EXISTS (SELECT 1 FROM questions WHERE reply_id = %(rid)s AND session_id = %(sid)s)
   OR EXISTS (SELECT 1 FROM sessions WHERE id = %(sid)s
              AND turns @> jsonb_build_array(jsonb_build_object('reply_id', %(rid)s::text)))
ON CONFLICT (reply_id) DO UPDATE SET vote = excluded.vote, comment = excluded.comment, created = excluded.created
RETURNING 1
"""
PATIENT_TIMEOUT = 10.0  # seconds a background log write may take before its connection is cut


class Skipped(PoolTimeout):
    """The database was left alone for this call: marked down, or another thread is trying it."""


class PostgresStore(Store):
    """Keep state in PostgreSQL; when it is down, skip it for a moment instead of stalling visitors."""

    ERRORS = (psycopg.Error, PoolTimeout, OSError)
    # Only these mean the server is unreachable; any other error (bad data, a slow staff query
    # hitting the statement timeout) fails that one call without marking the database down.
    OUTAGES = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout, OSError)
    COMMENTS = "string_agg(f.comment, ' | ')"
    DATA_ERRORS = (psycopg.DataError, psycopg.IntegrityError, psycopg.ProgrammingError)
    # Seconds to leave the database alone after a failure, doubling: short, so that logging and
    # sessions resume soon after the server is back (the spool keeps the log meanwhile).
    RETRY_MIN, RETRY_MAX = 0.25, 2.0
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
        self._watchdog = Watchdog()

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _connect_kwargs(self) -> dict:
        # Bound connecting, and (in _configure) every statement. A server that is frozen rather than
        # down still answers TCP, so neither bound applies there: the Watchdog cuts such a call.
        # Keepalives notice a vanished host.
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
                        # No check on checkout: its round trip would hang on a frozen server before
                        # the watchdog could see it. Connections broken by a restart fail once, which
                        # starts a back-off, and the probe then checks the pool (_probe).
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

    def _run(self, fn, patient: bool = False):
        if not self._in_outage:
            return self._call(fn, patient)
        # During an outage no visitor waits on the server: a background thread tries it once the
        # back-off has passed, and calls skip it until that probe succeeds.
        if time.monotonic() >= self._down_until and self._probing.acquire(blocking=False):
            threading.Thread(target=self._probe, name="faqbot-postgres-probe", daemon=True).start()
        raise Skipped("database marked down; retrying shortly")

    def _probe(self) -> None:
        try:
            psycopg.connect(self.url, **self._connect_kwargs()).close()
            pool = self._get_pool()
            pool.check()  # drop the connections a restart broke, before visitors get them
            self._call(lambda conn: conn.execute("SELECT 1"), patient=False)
        except self.ERRORS as exc:
            log.debug("database still down: %s", exc)
            self._back_off()
        else:
            log.info("database is back")
            self._retry, self._down_until = self.RETRY_MIN, 0.0
            self._failing = False
        finally:
            self._probing.release()

    def _call(self, fn, patient: bool = False):
        with self._get_pool().connection() as conn, \
                self._watchdog.guard(conn, PATIENT_TIMEOUT if patient else self.timeout):
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

    def _params(self, session_id: str, turn: Turn, now: float) -> dict:
        return {"sid": session_id, "now": now, "turn": Jsonb(turn.__dict__), "expired": now - self.session_ttl,
                "keep": self.max_turns}

    def save_turn(self, session_id: str, turn: Turn, now: float) -> bool:
        """Append a turn to its session (one statement); False when the database failed or was skipped."""
        return bool(self._safely("session write",
                                 lambda conn: conn.execute(SESSION, self._params(session_id, turn, now)) and True,
                                 False, writes=True))

    def _write_rows(self, conn: psycopg.Connection, rows: list) -> None:
        with conn.transaction():
            for row in rows:
                if not row.session_saved:
                    conn.execute(SESSION, self._params(row.session_id, row.turn, row.created))
            with conn.cursor() as cur:
                cur.executemany(QUESTION, [(r.turn.reply_id, r.session_id, r.created, r.turn.message, r.turn.type,
                                            r.confidence, r.top_passage) for r in rows])

    def add_feedback(self, session_id: str, reply_id: str, vote: str, comment: str | None) -> bool | None:
        """Store a vote on a reply; False when that reply is unknown, None when the database is down."""
        params = {"rid": reply_id, "sid": session_id, "vote": vote, "comment": comment, "now": time.time()}
        return self._safely("feedback write", lambda conn: conn.execute(FEEDBACK, params).fetchone() is not None,
                            None, writes=True)

    def reachable(self) -> bool:
        """Ask the server directly, past the pool and the back-off."""
        try:
            with psycopg.connect(self.url, **self._connect_kwargs()) as conn:
                conn.execute("SELECT 1 FROM meta LIMIT 1")
        except psycopg.Error:
            return False
        return True
