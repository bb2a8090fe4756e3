"""A watchdog that cuts the socket of a database call past its deadline (PostgreSQL's store uses it)."""
from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager

import psycopg


class Watchdog:
    """Cut the connection of a call that overran its time, so a frozen server can't hold a thread.

    A stopped server's kernel still accepts and acknowledges, so no client timeout fires; shutting
    the socket down makes the blocked read return at once, and psycopg raises (the pool then
    discards that connection).
    """

    TICK = 0.05  # seconds between looks: a call overruns its time by at most this

    def __init__(self):
        self._calls: dict[int, tuple[float, psycopg.Connection]] = {}
        self._pid = 0

    @contextmanager
    def guard(self, conn: psycopg.Connection, seconds: float):
        if self._pid != os.getpid():
            self._pid = os.getpid()
            threading.Thread(target=self._watch, name="faqbot-postgres-watchdog", daemon=True).start()
        key = id(conn)
        self._calls[key] = (time.monotonic() + seconds, conn)
        try:
            yield
        finally:
            self._calls.pop(key, None)

    def _watch(self) -> None:
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            for key, (deadline, conn) in list(self._calls.items()):
                if now > deadline and self._calls.pop(key, None) is not None:
                    cut(conn)


def cut(conn: psycopg.Connection) -> None:
    """Shut a connection's socket down under it (from another thread)."""
    try:
        sock = socket.socket(fileno=os.dup(conn.pgconn.socket))
    except (OSError, psycopg.Error):
        return  # already closed
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.close()
