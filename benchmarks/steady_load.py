"""A steady chat load that records every request's outcome, for restart and upgrade tests and measurements.

Two clients: one keeps a connection alive and chats every 2/rate seconds (closed loop: it waits for
each answer), the other opens a new connection for every chat on a fixed schedule at rate/2 per
second (open loop: it keeps sending while the server is away, as visitors do, so a gap shows up as
refused requests). Every request's status is kept; a request that gets no HTTP response counts as
failed, with the error.
"""
from __future__ import annotations

import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    sent: float  # time.monotonic()
    done: float
    client: str  # "keepalive" or "new"
    status: int  # 0 when no HTTP response came
    detail: str  # the reply's type ("answer", "fallback", ...) or the error


class SteadyLoad:
    def __init__(self, port: int, message: str, rate: float = 20.0, timeout: float = 15.0, host: str = "127.0.0.1"):
        self.port, self.host, self.message, self.timeout = port, host, message, timeout
        self.interval = 2.0 / rate  # each of the two clients sends half the chats
        self.outcomes: list[Outcome] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="new-connection")
        self.started = self.stopped = 0.0

    def _chat(self, conn: http.client.HTTPConnection, client: str) -> None:
        sent = time.monotonic()
        try:
            conn.request("POST", "/api/chat", body=json.dumps({"message": self.message}),
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            raw = response.read()
            try:
                detail = json.loads(raw).get("type", "")
            except ValueError:
                detail = raw[:80].decode("utf-8", "replace")
            outcome = Outcome(sent, time.monotonic(), client, response.status, detail)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()  # the next chat on this client opens a fresh connection
            outcome = Outcome(sent, time.monotonic(), client, 0, repr(exc))
        self.outcomes.append(outcome)

    def _keepalive(self) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        next_at = time.monotonic()
        while not self._stop.is_set():
            self._chat(conn, "keepalive")  # http.client reconnects after "Connection: close" or an error
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))
        conn.close()

    def _fresh(self) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self._chat(conn, "new")
        finally:
            conn.close()

    def _schedule(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            self._pool.submit(self._fresh)
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self) -> SteadyLoad:
        self.started = time.monotonic()
        self._threads = [threading.Thread(target=t, daemon=True) for t in (self._keepalive, self._schedule)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)
        self._pool.shutdown(wait=True)
        self.stopped = time.monotonic()

    def __enter__(self) -> SteadyLoad:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status != 200]

    def gap(self) -> float:
        """The longest stretch (s) between the start, each successful answer and the end with no answer in it."""
        times = [self.started] + sorted(o.done for o in self.outcomes if o.status == 200) + [self.stopped]
        return max(b - a for a, b in zip(times, times[1:]))

    def summary(self) -> str:
        kinds = {}
        for o in self.failures():
            kinds[o.detail.split("(")[0]] = kinds.get(o.detail.split("(")[0], 0) + 1
        return (f"{len(self.outcomes)} chats, {len(self.failures())} failed {kinds or ''}, "
                f"longest gap {self.gap():.2f} s")
