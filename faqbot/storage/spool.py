"""The question log, written off the request path.

A chat saves its turn to the session at once (a follow-up on another worker needs it, so that
write stays on the request path, with a short timeout) and hands its question-log row to this
spool: a bounded queue per process, drained in batches by one background thread. When the
database is slow or down the rows wait here and are written in order when it returns; a row the
database refuses as bad data is dropped alone, never holding up the rows behind it.

What can be lost: rows beyond the spool's capacity during a long outage (the oldest go first,
counted and reported), and whatever is still queued when a process is killed with SIGKILL
(at most a batch interval's rows when the database is healthy). A graceful exit flushes.
"""
from __future__ import annotations

import atexit
import itertools
import logging
import os
import threading
import time
import weakref
from collections import deque
from typing import NamedTuple

from ..answering.conversation import Turn

log = logging.getLogger(__name__)

PAUSE = 0.05  # seconds between drains: rows are batched over this long
BATCH = 200  # rows per transaction
RETRY_MIN, RETRY_MAX = 0.25, 2.0  # seconds between tries while the database fails, doubling
EXIT_FLUSH = 5.0  # seconds a graceful exit may spend writing what is left


_LOGS: "weakref.WeakSet[QuestionLog]" = weakref.WeakSet()  # this process's logs, for flush_all


def flush_all() -> None:
    """Write what every question log of this process holds, as a graceful exit does.

    For exits that skip the interpreter's own (faqbot/gunicorn_conf.py leaves a worker with
    os._exit, which runs no atexit handler).
    """
    for questions in list(_LOGS):
        questions._at_exit()


class Pending(NamedTuple):
    """One question-log row waiting to be written (with its session turn, when that write failed)."""
    seq: int
    session_id: str
    turn: Turn
    confidence: float | None
    top_passage: str | None
    created: float
    session_saved: bool


class QuestionLog:
    """Save each chat's turn now and its question-log row soon, whatever the database is doing."""

    def __init__(self, store, capacity: int = 20_000):
        self.store = store
        self.capacity = max(1, capacity)
        self._queue: deque[Pending] = deque()
        self._lock = threading.Lock()
        self._unsaved: dict[str, list[Turn]] = {}  # session turns waiting with their row, by session
        self._seq = 0
        self._pid = 0
        self._wake = threading.Event()
        self.lost = 0  # rows dropped: the spool overflowed, or the database refused the row itself
        self.failing_since: float | None = None  # when the current run of failed writes began
        self.written = 0
        self._draining = threading.Lock()  # one drain at a time: the writer thread, or a flush
        self._no_thread = False  # the writer thread could not be started (said once)
        _LOGS.add(self)

    # -- the request path ----------------------------------------------------------------------
    def record(self, session_id: str, turn: Turn, confidence: float | None, top_passage: str | None) -> None:
        """Save the turn to its session (short timeout), and queue the question-log row."""
        now = time.time()
        saved = self.store.save_turn(session_id, turn, now)
        with self._lock:
            self._seq += 1
            if len(self._queue) >= self.capacity:
                dropped = self._queue.popleft()
                self._forget(dropped)
                self.lost += 1
                if self.lost == 1 or self.lost % 1000 == 0:
                    log.warning("question log spool full (%d rows): %d oldest rows dropped so far",
                                self.capacity, self.lost)
            self._queue.append(Pending(self._seq, session_id, turn, confidence, top_passage, now, saved))
            if not saved:
                self._unsaved.setdefault(session_id, []).append(turn)
        try:
            self._ensure_thread()
        except RuntimeError as exc:  # no thread to be had (a process at its limit): write it now instead
            self._pid = 0  # ...and try to start the writer again next time
            if not self._no_thread:
                self._no_thread = True
                log.warning("question log: cannot start the writer (%s); writing on the request path", exc)
            self.flush(timeout=1.0)

    def history(self, session_id: str) -> list[Turn]:
        """A session's turns: the database's, plus any this process could not save there yet."""
        turns = self.store.history(session_id)
        waiting = self._unsaved.get(session_id)
        if waiting:
            turns = (turns + list(waiting))[-self.store.max_turns:]
        return turns

    # -- state, for /readyz and the metrics ----------------------------------------------------
    @property
    def pending(self) -> int:
        return len(self._queue)

    def state(self) -> dict:
        """Describe the spool: "ok" or "spooling" (writes failing), rows waiting, rows lost."""
        return {"state": "spooling" if self.failing_since else "ok", "pending": self.pending, "lost": self.lost}

    # -- the background writer -----------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()  # one writer per process: a forked worker starts its own
        threading.Thread(target=self._run, name="faqbot-question-log", daemon=True).start()
        self._no_thread = False
        atexit.register(self._at_exit)

    def _at_exit(self) -> None:
        if self._queue and not self.flush(EXIT_FLUSH):
            log.warning("question log: exiting with %d row(s) the database did not take; they are lost", self.pending)

    def _run(self) -> None:
        retry = RETRY_MIN
        while True:
            self._wake.wait(PAUSE if not self.failing_since else retry)
            self._wake.clear()
            try:
                ok = self.drain()
            except Exception:  # a bug here must not end the writer: the rows would pile up unseen
                log.exception("question log: the writer failed; trying again")
                ok = False
            retry = RETRY_MIN if ok else min(retry * 2, RETRY_MAX)

    def flush(self, timeout: float = 1.0) -> bool:
        """Write what is queued now, for at most timeout seconds; True when nothing is left."""
        deadline = time.monotonic() + timeout
        while self._queue and time.monotonic() < deadline:
            if not self.drain(deadline):
                time.sleep(min(RETRY_MIN, max(0.0, deadline - time.monotonic())))
        return not self._queue

    def drain(self, deadline: float | None = None) -> bool:
        """Write queued rows in batches, oldest first; False when the database failed (or, with a
        deadline, when the writer thread held the queue past it)."""
        wait = -1 if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._draining.acquire(timeout=wait):
            return False
        try:
            while self._queue and (deadline is None or time.monotonic() < deadline):
                with self._lock:
                    batch = list(itertools.islice(self._queue, BATCH))
                # One flag per row written or refused, oldest first; cut short where the database
                # failed, and every row from there waits for the next try.
                outcome = self.store.write_log(batch)
                for row, ok in zip(batch, outcome):
                    if not ok:
                        self.lost += 1
                        log.warning("question log: the database refused reply %s; dropped it", row.turn.reply_id)
                if outcome:
                    self._done(batch[len(outcome) - 1].seq)
                    self.written += len(outcome)
                if len(outcome) < len(batch):
                    self._failing()
                    return False
                self._recovered()
        finally:
            self._draining.release()
        return True

    def _done(self, last: int) -> None:
        with self._lock:
            while self._queue and self._queue[0].seq <= last:
                self._forget(self._queue.popleft())

    def _forget(self, row: Pending) -> None:
        if not row.session_saved:
            turns = self._unsaved.get(row.session_id)
            if turns:
                turns.pop(0)
                if not turns:
                    del self._unsaved[row.session_id]

    def _failing(self) -> None:
        if self.failing_since is None:
            self.failing_since = time.monotonic()
            log.warning("question log: the database is not taking writes; keeping rows here (%d waiting)",
                        self.pending)

    def _recovered(self) -> None:
        if self.failing_since is not None:
            log.info("question log: the database is taking writes again after %.1f s; the waiting rows "
                     "were written", time.monotonic() - self.failing_since)
            self.failing_since = None
