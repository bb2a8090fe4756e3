"""Read a visitor's request body in full, within a deadline and the size limit, before Flask sees it.

A client that promises 100 bytes and sends 20 would otherwise hold the thread (or, with a sync
worker, the whole worker) that reads its body until gunicorn's worker timeout. This WSGI
middleware reads the body of the public JSON API's POSTs itself:

* within BODY_TIMEOUT seconds in all (not per read): past it, a watchdog thread shuts the
  socket's reading side, the blocked read returns at once, and the request is answered 408
  `{"error": {"code": "request_timeout", ...}}` through Flask (request id, headers, access log);
* at most MAX_CONTENT_LENGTH bytes, chunked or not: a longer chunked body gets the same 413 as
  a Content-Length over the limit, whatever its first 16 KiB parse as.

Flask then gets the body from memory with its exact Content-Length. Staff uploads (/api/staff/,
with their own larger limit) and pages outside /api/ pass through untouched.
"""
from __future__ import annotations

import heapq
import io
import itertools
import os
import socket
import threading
import time

BODY_METHODS = ("POST", "PUT", "PATCH")
STAFF_UPLOAD_LIMIT = 1024 * 1024  # bytes: an evaluation file is far larger than a chat message
STEP = 64 * 1024
ERROR_KEY = "faqbot.body_error"  # (status, code, message), raised by security.guard_json as an ApiError


def applies(environ) -> bool:
    path = environ.get("PATH_INFO", "")
    return (environ.get("REQUEST_METHOD") in BODY_METHODS and path.startswith("/api/")
            and not path.startswith("/api/staff"))


class BodyReader:
    """The middleware: wrap app.wsgi_app with it."""

    def __init__(self, app, limit: int, timeout: float):
        self.app, self.limit, self.timeout = app, int(limit), float(timeout)

    def __call__(self, environ, start_response):
        if applies(environ):
            self._buffer(environ)
        return self.app(environ, start_response)

    def _buffer(self, environ) -> None:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        raw_length = environ.get("CONTENT_LENGTH") or ""
        if not chunked and not environ.get("wsgi.input_terminated"):
            try:
                length = int(raw_length) if raw_length else 0
            except ValueError:
                return  # Werkzeug answers a malformed length itself
            if length <= 0 or length > self.limit:
                return  # nothing to read, or Flask refuses it (413) from the header alone
            want = length
        else:
            want = self.limit + 1  # read one byte past the limit to know it is exceeded
        stream = environ["wsgi.input"]
        sock = environ.get("gunicorn.socket")
        ticket = WATCHDOG.arm(sock, self.timeout) if sock is not None and self.timeout > 0 else None
        parts, got, error = [], 0, None
        try:
            while got < want:
                data = stream.read(min(STEP, want - got))
                if not data:
                    break
                parts.append(data)
                got += len(data)
        except (OSError, ValueError, EOFError) as exc:  # gunicorn's NoMoreData, a reset, ...
            error = exc
        except Exception as exc:  # noqa: BLE001 gunicorn's parser errors (e.g. a bad chunk size) subclass Exception
            error = exc
        finally:
            expired = WATCHDOG.disarm(ticket) if ticket is not None else False
        body = b"".join(parts)
        if expired:
            fail(environ, 408, "request_timeout",
                 f"The request body did not arrive within {self.timeout:g} seconds. Please try again.")
            return
        if got > self.limit:
            fail(environ, 413, "body_too_large", "The request body is too large.")
            return
        if error is not None or (not chunked and not environ.get("wsgi.input_terminated") and got < want):
            fail(environ, 400, "incomplete_body", "The request body ended before its promised length.")
            return
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)  # Werkzeug ignores Content-Length beside chunked
        environ.pop("wsgi.input_terminated", None)


def fail(environ, status: int, code: str, message: str) -> None:
    environ[ERROR_KEY] = (status, code, message)
    environ["wsgi.input"] = io.BytesIO(b"")
    environ["CONTENT_LENGTH"] = "0"
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ.pop("wsgi.input_terminated", None)


class Watchdog:
    """One thread per process that ends body reads past their deadline (a socket has no total timeout).

    A per-read socket timeout would let a client that trickles a byte just before each timeout hold
    the thread indefinitely; shutting the reading side wakes the blocked recv() at once, and the
    server then closes the connection instead of reading a next request from it.
    """

    def __init__(self):
        self._heap: list = []
        self._live: dict[int, list] = {}
        self._cond = threading.Condition()
        self._ids = itertools.count()
        self._pid = 0

    def arm(self, sock, seconds: float) -> int:
        ticket = next(self._ids)
        entry = [time.monotonic() + seconds, ticket, sock, False]
        with self._cond:
            if self._pid != os.getpid():  # first use in this process (threads don't survive a fork)
                self._pid = os.getpid()
                self._heap, self._live = [], {}
                threading.Thread(target=self._run, name="faqbot-body-watchdog", daemon=True).start()
            heapq.heappush(self._heap, entry)
            self._live[ticket] = entry
            self._cond.notify()
        return ticket

    def disarm(self, ticket: int) -> bool:
        """Stop watching; True when the deadline had passed (the socket's reading side is shut)."""
        with self._cond:
            entry = self._live.pop(ticket, None)
            return bool(entry and entry[3])

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][1] not in self._live:
                    heapq.heappop(self._heap)  # disarmed
                wait = self._heap[0][0] - time.monotonic() if self._heap else None
                if wait is None or wait > 0:
                    self._cond.wait(wait)
                    continue
                entry = heapq.heappop(self._heap)
                entry[3] = True
                sock = entry[2]
            try:
                sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass  # already closed by the client


WATCHDOG = Watchdog()
