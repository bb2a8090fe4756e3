"""Servers for the tests: real PostgreSQL and Redis on loopback, in a temporary folder, gone afterwards
(tests/run.sh installs Debian's postgresql and redis-server packages when they are missing); an app
served in a thread; visitors chatting with it while a test changes it.
"""
from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from netutil import free_port, wait_for_port  # noqa: E402,F401  (one copy, shared with the benchmarks)


def eventually(check, seconds: float = 20.0, every: float = 0.2) -> bool:
    """Poll check() until it is true or the time is up; say which."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return False


def serve_app(app) -> tuple[str, callable]:
    """Serve a WSGI app on a free loopback port in a thread; return its origin and a stop function."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        server.server_close()
        thread.join()
    return f"http://127.0.0.1:{server.server_port}", stop


def post_json(base: str, path: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(base + path, data=json.dumps(body or {}).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


class ChatLoad:
    """Visitors asking `questions` in turn from `threads` threads while a test changes the app: every
    reply must be a 200 of an ordinary type (answered: (question, type)); any failure is kept in errors."""

    def __init__(self, base: str, questions: list[str], threads: int):
        self.base, self.questions = base, questions
        self.answered: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._ask) for _ in range(threads)]

    def _ask(self) -> None:
        i = 0
        while not self._stop.is_set():
            question = self.questions[i % len(self.questions)]
            try:
                status, body = post_json(self.base, "/api/chat", {"message": question})
                assert status == 200 and body["type"] in ("answer", "fallback", "smalltalk"), body
                self.answered.append((question, body["type"]))
            except Exception as exc:  # any failure at all is what such a test is about
                self.errors.append(repr(exc))
            i += 1

    def more(self, n: int, seconds: float = 10) -> None:
        """Wait until n further chats have been answered, so a change lands mid-traffic."""
        goal, deadline = len(self.answered) + n, time.monotonic() + seconds
        while len(self.answered) < goal and time.monotonic() < deadline and not self.errors:
            time.sleep(0.005)

    def __enter__(self) -> ChatLoad:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()


def postgres_bin(name: str) -> str | None:
    """Find a PostgreSQL server program (Debian keeps them off PATH, per version)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return found[-1] if found else shutil.which(name)


class Postgres:
    """A throwaway PostgreSQL cluster: trust auth on 127.0.0.1, no fsync (a stopped server loses nothing; only a machine crash could).

    Give it a folder of its own under /tmp (tempfile.mkdtemp): as root the server runs as the
    postgres user, which must own the folder and reach it.
    """

    def __init__(self, folder: Path, max_connections: int = 200):
        self.folder = folder
        self.max_connections = max_connections
        self.data = folder / "data"
        self.port = free_port()
        self.user = None
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # initdb refuses to run as root: use the package's postgres user
            self.user = "postgres"
            os.chown(folder, pwd.getpwnam(self.user).pw_uid, -1)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = ["runuser", "-u", self.user, "--", *args] if self.user else list(args)
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=60)

    def start(self) -> Postgres:
        if not self.data.exists():
            self._run(postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                      "-E", "UTF8", "--no-sync")
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "start",
                  "-o", f"-p {self.port} -h 127.0.0.1 -k {self.folder} -c fsync=off "
                        f"-c full_page_writes=off -c max_connections={self.max_connections}")
        wait_for_port(self.port)
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def _pids(self) -> list[int]:
        """The postmaster and its children (backends, WAL writer...)."""
        master = int((self.data / "postmaster.pid").read_text().split()[0])
        from bench_http import children

        return [master, *children(master)]

    def freeze(self) -> None:
        """Stop every server process (SIGSTOP): connections stay open and nothing answers, as on a
        hung host; thaw() lets them go on."""
        for pid in self._pids():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self._pids():
            os.kill(pid, signal.SIGCONT)

    def url(self, schema: str | None = None) -> str:
        base = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        return f"{base}?options=-csearch_path%3D{schema}" if schema else base

    def new_schema(self, name: str) -> str:
        """Create an empty schema and return a URL whose tables live in it (a fresh database, cheaply)."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
            conn.execute(f'CREATE SCHEMA "{name}"')
        return self.url(name)


class Redis:
    """A throwaway Redis server on 127.0.0.1, nothing saved to disk."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> Redis:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(10)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def have_postgres() -> bool:
    """Tell whether a server can be started here (as root, initdb needs the package's postgres user)."""
    if not (postgres_bin("initdb") and postgres_bin("pg_ctl")):
        return False
    try:
        return os.geteuid() != 0 or bool(pwd.getpwnam("postgres"))
    except KeyError:
        return False


def have_redis() -> bool:
    return shutil.which("redis-server") is not None
