"""Where conversations, the question log and feedback live: one interface, on SQLite or PostgreSQL.

SQLite (a file in the instance folder) is the default and needs no set-up; PostgreSQL lets many
instances share one state. The SQL both engines understand alike lives here; each engine's module
holds what differs (connecting, the chat write, the feedback write, the schema).
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import fields
from typing import NamedTuple

from ..answering.conversation import Turn

TURN_FIELDS = frozenset(f.name for f in fields(Turn))

log = logging.getLogger(__name__)

PURGE_EVERY = 60.0  # seconds between sweeps of expired sessions and old log rows
EXPORT_PAGE = 500  # rows per page of the CSV export: the export never holds a connection between pages


class StoreUnavailable(Exception):
    """The staff console asked for the log while the database is down."""


class LoggedQuestion(NamedTuple):
    message: str
    created: float
    confidence: float | None
    type: str
    top_passage: str | None


class Downvote(NamedTuple):
    created: float
    message: str
    type: str
    confidence: float | None
    top_passage: str | None
    comment: str | None


class ExportRow(NamedTuple):
    created: float
    session_id: str
    reply_id: str
    message: str
    type: str
    confidence: float | None
    top_passage: str | None
    up: int
    down: int
    comments: str | None


class Store:
    """Keep conversations and the question log; never let a database fault stop an answer.

    Visitor-facing methods swallow database errors (logging a warning) and return a default;
    the staff console's reads raise StoreUnavailable instead, so staff see the outage.
    """

    ERRORS: tuple = ()  # the driver's exceptions that mean "the database is in trouble"
    DATA_ERRORS: tuple = ()  # ...of which these blame the row written, not the database
    COMMENTS = "GROUP_CONCAT(f.comment, ' | ')"  # joins a reply's feedback comments in the export

    def __init__(self, session_ttl: int, max_turns: int, retention_days: float):
        self.session_ttl = session_ttl
        self.max_turns = max_turns
        self.retention = retention_days * 86400
        self._last_purge = 0.0
        self._failing = False  # one warning when the database starts failing, one line when it recovers

    # -- what each engine provides -------------------------------------------------------------
    def _run(self, fn, patient: bool = False):
        """Call fn(connection) on a working connection, raising one of ERRORS when there is none.

        A visitor's call waits briefly; a patient one (the background log writer) may wait longer.
        """
        raise NotImplementedError

    def _failed(self, what: str, exc: Exception) -> None:
        """Note a failure; engines add what they must (SQLite reconnects, PostgreSQL backs off)."""
        if isinstance(exc, self.DATA_ERRORS):
            log.warning("database %s failed on its data: %s", what, exc)
        elif not self._failing:
            self._failing = True
            log.warning("database %s failed, carrying on without it: %s", what, exc)
        else:  # one warning per outage, not one per request
            log.debug("database %s failed again: %s", what, exc)

    def _succeeded(self) -> None:
        if self._failing:
            self._failing = False
            log.info("database is answering again")

    def _sql(self, sql: str) -> str:
        """Translate the shared SQL's ? placeholders to the engine's."""
        return sql

    def save_turn(self, session_id: str, turn: Turn, now: float) -> bool:
        """Append a turn to its session (a visitor's wait: short); False when the database failed."""
        raise NotImplementedError

    def _write_rows(self, conn, rows: list) -> None:
        """Insert question-log rows (spool.Pending), and the session turns not yet saved, as one transaction.

        Idempotent for the log: a row written before a failure was noticed is not written twice.
        """
        raise NotImplementedError

    def add_feedback(self, session_id: str, reply_id: str, vote: str, comment: str | None) -> bool | None:
        """Store a vote on a reply; False when that reply is unknown, None when the database is down."""
        raise NotImplementedError

    def reachable(self) -> bool:
        """Tell whether the database answers a fresh connection (for /readyz)."""
        raise NotImplementedError

    def healthy(self) -> bool:
        """Tell, without waiting on the database, whether its last calls went through (for /readyz)."""
        return not self._failing

    def close(self) -> None:
        """Drop this process's connections (before a fork, or at shutdown)."""

    # -- shared behaviour ----------------------------------------------------------------------
    def _safely(self, what: str, fn, default=None, patient: bool = False, writes: bool = False):
        try:
            result = self._run(fn, patient)
        except self.ERRORS as exc:
            self._failed(what, exc)
            return default
        if writes:  # reads may go on while writes fail (a locked or full disk): only a write says it is over
            self._succeeded()
        return result

    def record(self, session_id: str, turn: Turn, confidence: float, top_passage: str | None) -> None:
        """Append a turn to its session and to the question log, as one transaction, now.

        The service goes through spool.QuestionLog instead, which keeps the log off the request path.
        """
        from .spool import Pending  # the spool builds on this module

        self.write_log([Pending(0, session_id, turn, confidence, top_passage, time.time(), False)])

    def write_log(self, rows: list) -> list[bool]:
        """Write question-log rows oldest first: a flag for each row written (True) or refused as bad
        data (False, dropped), stopping short at the first row the database could not take."""
        if not rows:
            return []
        try:
            self._run(lambda conn: self._write_rows(conn, rows), patient=True)
        except self.ERRORS as exc:
            self._failed("log write", exc)
            if not isinstance(exc, self.DATA_ERRORS):  # the database's trouble: every row waits
                return []
            if len(rows) == 1:
                return [False]
            done: list[bool] = []
            for row in rows:  # one bad row fails its whole batch: find it, and write the others
                outcome = self.write_log([row])
                if not outcome:
                    break
                done += outcome
            return done
        self._succeeded()
        self._wrote(rows[-1].created)
        return [True] * len(rows)

    def _wrote(self, now: float) -> None:
        """After a write: engines add their housekeeping (SQLite's checkpoints); expired rows are swept."""
        self._maybe_purge(now)

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read rows for the staff console; StoreUnavailable when the database is down."""
        try:
            return self._run(lambda conn: [tuple(r) for r in conn.execute(self._sql(sql), params).fetchall()])
        except self.ERRORS as exc:
            self._failed("read", exc)
            raise StoreUnavailable(str(exc)) from exc

    def _execute(self, what: str, sql: str, params: tuple = ()) -> bool:
        """Run one write; False when the database is down."""
        def write(conn):
            conn.execute(self._sql(sql), params)
            return True
        return bool(self._safely(what, write, False, writes=True))

    def history(self, session_id: str) -> list[Turn]:
        """Return a session's recent turns, oldest first ([] when new or expired)."""
        def read(conn):
            row = conn.execute(self._sql("SELECT updated, turns FROM sessions WHERE id = ?"), (session_id,)).fetchone()
            if row is None or row[0] < time.time() - self.session_ttl:
                return []
            turns = json.loads(row[1]) if isinstance(row[1], str) else row[1]
            # Fields a later version added are left out: during a rolling upgrade, an older worker
            # reads turns a newer one saved (this version added `vector`; older ones fail on it).
            return [Turn(**{k: v for k, v in t.items() if k in TURN_FIELDS}) for t in turns[-self.max_turns:]]
        return self._safely("read", read, [])

    def _maybe_purge(self, now: float) -> None:
        if now - self._last_purge > PURGE_EVERY:
            self.purge(now)

    def purge(self, now: float | None = None) -> None:
        """Delete expired sessions and log rows older than the retention period."""
        now = now or time.time()
        self._last_purge = now

        def sweep(conn):
            conn.execute(self._sql("DELETE FROM sessions WHERE updated < ?"), (now - self.session_ttl,))
            conn.execute(self._sql("DELETE FROM questions WHERE created < ?"), (now - self.retention,))
            conn.execute(self._sql("DELETE FROM feedback WHERE created < ?"), (now - self.retention,))
        self._safely("purge", sweep)

    def meta(self, key: str) -> str | None:
        """Read a shared setting (such as the corpus version); None when unset or unreadable."""
        def read(conn):
            row = conn.execute(self._sql("SELECT value FROM meta WHERE key = ?"), (key,)).fetchone()
            return row[0] if row else None
        return self._safely("meta read", read)

    def set_meta(self, key: str, value: str) -> bool:
        """Write a shared setting every worker and instance can see; False when the database is down."""
        return self._execute("meta write", "INSERT INTO meta (key, value) VALUES (?, ?) "
                             "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def ping(self) -> bool:
        """Tell whether the database answers (creating the schema on first use)."""
        return bool(self._safely("ping", lambda conn: conn.execute("SELECT 1").fetchone(), False))

    # -- the staff console's reads -------------------------------------------------------------
    def questions_since(self, since: float, limit: int) -> list[LoggedQuestion]:
        """Return logged questions since a time, newest first."""
        rows = self._query("SELECT message, created, confidence, type, top_passage FROM questions "
                           "WHERE created >= ? ORDER BY created DESC LIMIT ?", (since, limit))
        return [LoggedQuestion(*r) for r in rows]

    def votes_since(self, since: float) -> dict[str, int]:
        """Count votes by kind since a time."""
        return dict(self._query("SELECT vote, COUNT(*) FROM feedback WHERE created >= ? GROUP BY vote", (since,)))

    def downvotes_since(self, since: float, limit: int) -> list[Downvote]:
        """Return thumbs-down votes with the question they were about, newest first."""
        rows = self._query(
            "SELECT f.created, q.message, q.type, q.confidence, q.top_passage, f.comment FROM feedback f "
            "JOIN questions q ON q.reply_id = f.reply_id AND q.session_id = f.session_id "
            "WHERE f.vote = 'down' AND f.created >= ? ORDER BY f.created DESC LIMIT ?", (since, limit))
        return [Downvote(*r) for r in rows]

    def export(self, since: float) -> Iterator[list[ExportRow]]:
        """Yield the question log since a time with its votes, oldest first, a page at a time."""
        after: tuple = (since, "")
        while True:
            # Keyset pages: each page is one short query, so a slow download holds no connection.
            rows = self._query(
                "SELECT q.created, q.session_id, q.reply_id, q.message, q.type, q.confidence, q.top_passage, "
                "COUNT(CASE f.vote WHEN 'up' THEN 1 END), COUNT(CASE f.vote WHEN 'down' THEN 1 END), "
                f"{self.COMMENTS} FROM questions q LEFT JOIN feedback f "
                "ON f.reply_id = q.reply_id AND f.session_id = q.session_id "
                "WHERE q.created >= ? AND (q.created > ? OR (q.created = ? AND q.reply_id > ?)) "
                "GROUP BY q.reply_id ORDER BY q.created, q.reply_id LIMIT ?",
                (since, after[0], after[0], after[1], EXPORT_PAGE))
            if not rows:
                return
            yield [ExportRow(*r) for r in rows]
            after = (rows[-1][0], rows[-1][2])
