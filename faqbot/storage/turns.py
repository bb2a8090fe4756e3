"""The writers' turn on a SQLite file: a flock that orders the writers of every process before SQLite's own lock."""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from contextlib import contextmanager, nullcontext

WAIT = 0.2  # seconds a visitor's write waits for its turn and SQLite's lock (sqlite.py's default)


@contextmanager
def writers_turn(conn: sqlite3.Connection, turns: "TurnFile | None", wait: float = WAIT):
    """Hold the writers' turn for one transaction, waiting at most `wait` in all for it and SQLite's lock.

    Writers queue on a flock before asking SQLite: SQLite's busy handler sleeps 1 ms or more
    before it retries a lock held for 0.1 ms, while a flock is free for the next writer as
    soon as it is released (by the kernel too, when a process dies). The flock only orders
    the writers; SQLite's lock still guards the data, so a writer stuck with its turn delays
    the others by `wait`, and they then go ahead without it.
    """
    if turns is None:
        with busy_timeout(conn, wait) if wait != WAIT else nullcontext():
            yield
        return
    deadline, pause = time.monotonic() + wait, 50e-6
    # A process's threads queue here asleep: only the first polls the flock, so a busy worker's
    # sixteen threads don't each wake every 50-250 us to try it (measured: 14% of its busy time).
    if not turns.lock.acquire(timeout=wait):
        with busy_timeout(conn, 0):  # as below: a writer stuck with its turn, try SQLite's lock once
            yield
        return
    try:
        while True:
            try:
                fcntl.flock(turns.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    # A writer stuck with its turn: try SQLite's lock once, without its busy wait.
                    with busy_timeout(conn, 0):
                        yield
                    return
                time.sleep(pause)  # polled: flock itself has no timeout
                pause = min(pause * 2, 250e-6)
        try:
            left = deadline - time.monotonic()
            if wait != WAIT or left < WAIT - 0.01:  # SQLite's lock gets only what is left of the wait
                with busy_timeout(conn, left):
                    yield
            else:
                yield
        finally:
            fcntl.flock(turns.fd, fcntl.LOCK_UN)
    finally:
        turns.lock.release()


_LOCKS: dict[tuple[int, str], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def process_lock(path: str) -> threading.Lock:
    """The lock a process's threads take before the flock of a file; keyed by the process id too,
    so a worker forked from the master never inherits a lock the master happened to hold."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault((os.getpid(), path), threading.Lock())


class Group:
    """A process's chats saving their turns at the same moment, written in one transaction.

    Under load a worker's threads often finish chats together, and each paid for its own
    transaction and writers' turn. Now the first to arrive writes what is queued when it starts
    (everything its write covers is settled together); the others wait asleep for that outcome,
    and those arriving during the write queue for the next one. Each waits at most its `wait`
    while queued; a turn taken into a write waits for that write, which is bounded by its own.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._queue: list[list] = []  # [item, outcome]: outcome None until written
        self._writing = False

    def join(self, item, write, wait: float) -> bool:
        """Have `item` written by write(items, seconds left) -> bool, alone or with others queued."""
        ticket = [item, None]
        deadline = time.monotonic() + wait
        with self._cond:
            self._queue.append(ticket)
            while self._writing and ticket[1] is None:
                queued = any(t is ticket for t in self._queue)
                left = deadline - time.monotonic()
                if queued and left <= 0:
                    # Never taken: the caller keeps it for a later try (by identity: two tickets may be equal).
                    self._queue = [t for t in self._queue if t is not ticket]
                    return False
                self._cond.wait(left if queued else None)
            if ticket[1] is not None:
                return ticket[1]
            batch, self._queue, self._writing = self._queue, [], True
        ok = False
        try:
            ok = bool(write([t[0] for t in batch], max(0.0, deadline - time.monotonic())))
        finally:
            with self._cond:
                for t in batch:
                    t[1] = ok
                self._writing = False
                self._cond.notify_all()
        return ok


_GROUPS: dict[tuple[int, str], Group] = {}


def process_group(path: str) -> Group:
    """The group of a process's turn writes to a file (a forked worker starts its own)."""
    with _LOCKS_GUARD:
        return _GROUPS.setdefault((os.getpid(), path), Group())


class TurnFile:
    """The file descriptor a thread takes the writers' turn through, closed when the thread's gone.

    A thread's connection goes with its thread-local storage; a bare descriptor number would not.
    """

    def __init__(self, fd: int, lock: threading.Lock):
        self.fd = fd
        self.lock = lock  # shared by the process's threads on this file (process_lock)

    def close(self) -> None:
        """Close the descriptor, once."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    __del__ = close


@contextmanager
def busy_timeout(conn: sqlite3.Connection, seconds: float):
    """Let SQLite wait at most this long for its lock while the block runs."""
    conn.execute(f"PRAGMA busy_timeout={max(int(seconds * 1000), 0)}")
    try:
        yield
    finally:
        try:
            conn.execute(f"PRAGMA busy_timeout={int(WAIT * 1000)}")
        except sqlite3.Error:
            pass  # the block's own error tells; a failed connection is closed and opened afresh
