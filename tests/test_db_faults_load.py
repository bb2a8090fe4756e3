"""Database faults under load: the Procfile's server, a visitor sending 20 chats/s, a fault in the middle.

Each test records every reply's status, latency and id, then reads the database itself to check
that no question was lost. The faults are short (seconds, not the fault run's 20-45 s): the
behaviour under test is "a visitor waits at most the short timeouts, and the log catches up", and
that shows in a few seconds as well as in minutes.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import servers

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_http import Server, procfile_command  # noqa: E402

RATE = 20  # chats a second, as in the fault run
MESSAGES = ["What is remedial massage?", "Can it help my back pain?", "how often should i get a massage",
            "Does it hurt?", "What happens at the first appointment?", "will it help my sciatica"]


def serve(tmp_path: Path, **env) -> tuple[Server, str]:
    port = servers.free_port()
    base = f"http://127.0.0.1:{port}"
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_") and k != "DATABASE_URL"},
            "PYTHONPATH": str(REPO), "FAQBOT_RATELIMIT_CHAT": "100000/minute", "FAQBOT_ACCESS_LOG": "false",
            "FAQBOT_DATABASE": str(tmp_path / "faqbot.sqlite3"), **env}
    server = Server("faqbot", procfile_command(port), full, base + "/healthz", base + "/api/chat",
                    tmp_path / "server.log")
    server.start(workers=2)
    return server, base


class Visitors:
    """Send RATE chats a second, each from its own thread so a slow reply doesn't slow the rate."""

    def __init__(self, base: str):
        self.base, self.results, self._stop = base, [], threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=64)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _one(self, n: int) -> None:
        started = time.monotonic()
        body = json.dumps({"message": MESSAGES[n % len(MESSAGES)]}).encode()
        request = urllib.request.Request(self.base + "/api/chat", body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, reply = response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            status, reply = exc.code, {}
        except OSError as exc:
            status, reply = repr(exc), {}
        self.results.append((started, time.monotonic() - started, status, reply.get("reply_id")))

    def _run(self) -> None:
        n, next_at = 0, time.monotonic()
        while not self._stop.is_set():
            self._pool.submit(self._one, n)
            n += 1
            next_at += 1 / RATE
            time.sleep(max(0.0, next_at - time.monotonic()))

    def __enter__(self) -> Visitors:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._pool.shutdown(wait=True)

    def latencies(self, since: float = 0.0) -> list[float]:
        return sorted(took for started, took, _, _ in self.results if started >= since)

    def statuses(self) -> set:
        return {status for _, _, status, _ in self.results}

    def reply_ids(self) -> set[str]:
        return {rid for _, _, status, rid in self.results if status == 200}


def p99(values: list[float]) -> float:
    return values[min(len(values) - 1, int(len(values) * 0.99))]


def report(fault: str, visitors: Visitors, during: list[float], health: list[float]) -> None:
    """Print what a visitor saw (pytest -s shows it; docs/reliability.md quotes a run)."""
    print(f"\n{fault}: {len(visitors.results)} chats, from the fault on p50 {statistics.median(during) * 1000:.0f} ms "
          f"p99 {p99(during) * 1000:.0f} ms max {during[-1] * 1000:.0f} ms; /healthz max {max(health) * 1000:.0f} ms")


def probe(url: str) -> float:
    """Seconds /healthz took to answer 200."""
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
    return time.monotonic() - started


def logged_eventually(read_ids, expected: set[str], seconds: float = 20.0) -> set[str]:
    """Poll the database until every expected reply id is there; return the missing ones."""
    deadline = time.monotonic() + seconds
    while True:
        missing = expected - read_ids()
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(0.25)


def sqlite_ids(path: Path):
    def read() -> set[str]:
        conn = sqlite3.connect(path, timeout=5)
        try:
            return {row[0] for row in conn.execute("SELECT reply_id FROM questions")}
        finally:
            conn.close()
    return read


def test_sqlite_locked_by_another_process_slows_no_chat_and_loses_no_question(tmp_path):
    server, base = serve(tmp_path)
    db = tmp_path / "faqbot.sqlite3"
    try:
        with Visitors(base) as visitors:
            time.sleep(1.0)
            locker = sqlite3.connect(db, isolation_level=None)
            locker.execute("BEGIN EXCLUSIVE")  # another process mid-write (a backup, a long export)
            locked_at = time.monotonic()
            health = [probe(base + "/healthz") for _ in range(5)]
            ready = urllib.request.urlopen(base + "/readyz", timeout=10)
            time.sleep(max(0.0, locked_at + 3.0 - time.monotonic()))
            locker.execute("ROLLBACK")
            locker.close()
            time.sleep(1.0)
        assert visitors.statuses() == {200}
        during = visitors.latencies(since=locked_at)
        report("sqlite locked 3 s", visitors, during, health)
        # A visitor waits at most the session write's 0.2 s for the lock (the fault run: p50 9.3 s).
        assert p99(during) < 1.0, (statistics.median(during), p99(during))
        assert max(health) < 1.0 and ready.status == 200
        assert not logged_eventually(sqlite_ids(db), visitors.reply_ids())  # the spool wrote them all after
    finally:
        server.stop()


def test_sigterm_under_load_loses_no_question(tmp_path):
    server, base = serve(tmp_path)
    with Visitors(base) as visitors:
        time.sleep(2.0)
        server.stop()  # SIGTERM: gunicorn finishes the requests in hand; the workers' spools flush at exit
    assert server.proc.returncode == 0
    # Requests after the stop are refused (nothing listens); every one answered must be in the log.
    answered = visitors.reply_ids()
    assert len(answered) >= RATE
    assert not (answered - sqlite_ids(tmp_path / "faqbot.sqlite3")())


@pytest.fixture
def postgres(tmp_path):
    if not servers.have_postgres():
        pytest.skip("PostgreSQL is not installed: run the tests with tests/run.sh")
    folder = Path(tempfile.mkdtemp(prefix="faqbot-pg-"))
    pg = servers.Postgres(folder, max_connections=20).start()  # few, so a test can take every slot
    yield pg
    pg.thaw()
    pg.stop("immediate")
    shutil.rmtree(folder, ignore_errors=True)


def postgres_ids(pg):
    def read() -> set[str]:
        import psycopg

        try:
            with psycopg.connect(pg.url(), connect_timeout=2) as conn:
                return {row[0] for row in conn.execute("SELECT reply_id FROM questions")}
        except psycopg.Error:
            return set()
    return read


@pytest.mark.parametrize("fault", ["frozen", "restarted"])
def test_postgres_frozen_or_restarted_slows_chats_by_the_timeouts_only_and_loses_no_question(tmp_path, postgres,
                                                                                              fault):
    server, base = serve(tmp_path, FAQBOT_DATABASE_URL=postgres.url())
    try:
        with Visitors(base) as visitors:
            time.sleep(1.0)
            started = time.monotonic()
            if fault == "frozen":
                postgres.freeze()  # a hung host: connections open, nothing answers (the fault run: p50 10 s)
            else:
                postgres.stop("immediate")
            health = [probe(base + "/healthz") for _ in range(5)]
            ready = urllib.request.urlopen(base + "/readyz", timeout=10)
            time.sleep(max(0.0, started + 3.0 - time.monotonic()))
            if fault == "frozen":
                postgres.thaw()
            else:
                postgres.start()
            time.sleep(3.0)
        assert visitors.statuses() == {200}
        during = visitors.latencies(since=started)
        report(f"postgres {fault} 3 s", visitors, during, health)
        # Visitors wait at most the short timeouts (0.5 s a call) while the outage is noticed, then
        # skip the database until a background probe finds it back.
        assert p99(during) < 1.5, (statistics.median(during), p99(during))
        assert statistics.median(during) < 0.2
        assert max(health) < 1.0 and ready.status == 200
        missing = logged_eventually(postgres_ids(postgres), visitors.reply_ids())
        assert not missing, (len(missing), len(visitors.reply_ids()), (tmp_path / "server.log").read_text()[-3000:])
    finally:
        server.stop()


def test_postgres_with_every_connection_slot_taken_keeps_every_instance_ready(tmp_path, postgres):
    import psycopg

    server, base = serve(tmp_path, FAQBOT_DATABASE_URL=postgres.url())
    hogs = []
    try:
        with Visitors(base) as visitors:
            time.sleep(1.0)  # the workers' pools hold their connections
            started = time.monotonic()
            while True:  # another application takes every slot left (superuser slots included)
                try:
                    hogs.append(psycopg.connect(postgres.url(), connect_timeout=2))
                except psycopg.OperationalError:
                    break
            ready = [urllib.request.urlopen(base + "/readyz", timeout=10).status for _ in range(5)]
            time.sleep(max(0.0, started + 3.0 - time.monotonic()))
            for conn in hogs:
                conn.close()
            hogs.clear()
            time.sleep(2.0)
        assert visitors.statuses() == {200}
        during = visitors.latencies(since=started)
        report("postgres slots full 3 s", visitors, during, [0.0])
        # Before, /readyz answered 503 on every instance: a load balancer would have removed them all.
        assert ready == [200] * 5 and p99(during) < 1.5
        assert not logged_eventually(postgres_ids(postgres), visitors.reply_ids())
    finally:
        for conn in hogs:
            conn.close()
        server.stop()
