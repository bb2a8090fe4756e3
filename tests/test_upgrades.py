"""Restarts drop nothing: a zero-downtime upgrade (gunicorn USR2), a graceful SIGTERM, a reindex, each under load.

Every server here runs the Procfile's command on loopback (2 gthread workers, --preload), with
the meaning layer off so that it starts in a second or two; load comes from benchmarks/steady_load.py
(20 chats/s, half on a kept-alive connection, half on new connections).
"""
from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from servers import eventually
from staff_fixtures import CORPUS, TOKEN
from test_staff_reindex import CUPPING, NEW_DOC

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_http import Server, procfile_command  # noqa: E402
from benchlib import child_env  # noqa: E402
from netutil import free_port  # noqa: E402
from steady_load import SteadyLoad  # noqa: E402

from faqbot.cli import main  # noqa: E402
from faqbot.upgrade import alive, children  # noqa: E402

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@pytest.fixture
def corpus(tmp_path):
    target = tmp_path / "corpus"
    target.mkdir()
    for path in CORPUS.iterdir():
        if path.is_file():
            (target / path.name).write_bytes(path.read_bytes())
    return target


@pytest.fixture
def start(tmp_path, corpus):
    """Start the Procfile's server (with a --pid file) on a copy of the corpus; stop its whole process group after."""
    started: list[Server] = []

    def start_server(**env) -> tuple[Server, int, Path]:
        port, pidfile = free_port(), tmp_path / "gunicorn.pid"
        environment = child_env(str(tmp_path / "d.sqlite3"), PORT=str(port), WEB_CONCURRENCY="2",
                                FAQBOT_SEMANTIC="off", FAQBOT_CORPUS_DIR=str(corpus), FAQBOT_ACCESS_LOG="false",
                                FAQBOT_STAFF_TOKEN=TOKEN, GUNICORN_CMD_ARGS=f"--pid {pidfile}", **env)
        server = Server("faqbot", procfile_command(port), environment, f"http://127.0.0.1:{port}/readyz",
                        f"http://127.0.0.1:{port}/api/chat", tmp_path / "server.log")
        server.start(workers=2, timeout=90)
        started.append(server)
        return server, port, pidfile

    yield start_server
    for server in started:  # an upgraded server's new master left the old one's process tree, not its group
        group = server.proc.pid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if group_members(group):
                os.killpg(group, sig)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and (server.proc.poll() is None or group_members(group)):
                time.sleep(0.1)


def group_members(group: int) -> list[int]:
    """The running (not zombie) processes of a process group."""
    members = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split() if entry.name.isdigit() else []
        except OSError:
            continue
        if fields and fields[0] != "Z" and int(fields[2]) == group:
            members.append(int(entry.name))
    return members


def test_usr2_upgrade_under_load_drops_nothing_and_serves_the_new_corpus(start, corpus):
    server, port, pidfile = start()
    old = server.proc.pid
    old_workers = children(old)
    with SteadyLoad(port, CUPPING) as load:
        time.sleep(1.0)
        (corpus / "900-cupping.md").write_text(NEW_DOC)  # the "new release", on disk, not reindexed
        time.sleep(0.5)
        assert {o.detail for o in load.outcomes} == {"fallback"}, load.summary()  # --preload: still the old corpus
        result = CliRunner().invoke(main, ["upgrade", "--pid", str(pidfile), "--port", str(port), "--timeout", "90"])
        upgraded = time.monotonic()
        time.sleep(1.5)
    print("\nUSR2 upgrade:", load.summary(), "|", result.output.strip().replace("\n", " | "))
    assert result.exit_code == 0, result.output
    assert load.failures() == [], load.summary()
    new = int(pidfile.read_text())
    assert new != old and alive(new) and not alive(old) and not any(alive(w) for w in old_workers)
    after = [o.detail for o in load.outcomes if o.sent > upgraded]
    assert len(after) >= 10 and set(after) == {"answer"}, after  # the new master loaded the corpus on disk
    assert {o.client for o in load.outcomes if o.sent > upgraded} == {"keepalive", "new"}
    # Nor is any question lost from the log: the old workers wrote their spools before exiting.
    answered = sum(o.status == 200 for o in load.outcomes)
    assert eventually(lambda: logged(corpus.parent / "d.sqlite3") == answered, seconds=10), (logged(
        corpus.parent / "d.sqlite3"), answered)


def logged(db: Path) -> int:
    conn = sqlite3.connect(db, timeout=5)
    try:
        return conn.execute("SELECT count(*) FROM questions").fetchone()[0]
    finally:
        conn.close()


def test_a_failed_upgrade_leaves_the_old_master_serving(start, corpus):
    server, port, pidfile = start()
    (corpus / "901-empty.md").write_text("# Only a title\n")  # the new master refuses to start on this corpus
    with SteadyLoad(port, "What is remedial massage?") as load:
        time.sleep(0.5)
        result = CliRunner().invoke(main, ["upgrade", "--pid", str(pidfile), "--port", str(port), "--timeout", "60"])
        time.sleep(0.5)
    assert result.exit_code != 0 and "keeps serving" in result.output, result.output
    assert load.failures() == [], load.summary()
    assert alive(server.proc.pid) and int(pidfile.read_text()) == server.proc.pid


def test_sigterm_finishes_what_was_accepted(start):
    server, port, _ = start()
    body = b'{"message": "What is remedial massage?"}'
    head = (b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))
    halfway = socket.create_connection(("127.0.0.1", port), timeout=15)  # a request whose body is still coming
    halfway.sendall(head + body[:10])
    kept = socket.create_connection(("127.0.0.1", port), timeout=15)  # a kept-alive connection, between requests
    kept.sendall(head + body)
    assert read_response(kept).startswith(b"HTTP/1.1 200")
    time.sleep(0.3)  # let the workers take up the half-sent request
    server.proc.send_signal(signal.SIGTERM)
    stopping = time.monotonic()
    time.sleep(0.5)
    halfway.sendall(body[10:])
    kept.sendall(head + body)  # the client did not know yet: answered, with "Connection: close"
    for sock in (halfway, kept):
        reply = read_response(sock)
        assert reply.startswith(b"HTTP/1.1 200") and b'"type":"answer"' in reply.replace(b" ", b""), reply[:300]
        sock.close()
    assert b"connection: close" in reply.lower()
    server.proc.wait(30)
    assert server.proc.returncode == 0
    # The workers used to hang in onnxruntime's destructors until gunicorn killed them at --graceful-timeout (20 s).
    assert time.monotonic() - stopping < 15


def read_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            return data
        data += piece
    head = data.split(b"\r\n\r\n", 1)[0].lower()
    length = int(head.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
    while len(data.split(b"\r\n\r\n", 1)[1]) < length:
        data += sock.recv(65536)
    return data


def test_reindex_under_load_reaches_every_worker_and_drops_nothing(start, corpus):
    _, port, _ = start(FAQBOT_REINDEX_CHECK_SECONDS="0.2")

    with SteadyLoad(port, CUPPING) as load:
        time.sleep(1.0)
        (corpus / "900-cupping.md").write_text(NEW_DOC)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/staff/reindex", data=b"", method="POST",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        reindexed = time.monotonic()
        deadline = reindexed + 30  # each worker notices within 0.2 s and rebuilds beside its requests
        while time.monotonic() < deadline:
            time.sleep(0.5)
            recent = [o.detail for o in load.outcomes if o.sent > time.monotonic() - 1.5]
            if len(recent) >= 10 and set(recent) == {"answer"}:
                break
    print("\nreindex:", load.summary())
    assert load.failures() == [], load.summary()
    assert set(recent) == {"answer"}, recent
    assert {o.detail for o in load.outcomes if o.sent < reindexed} >= {"fallback"}


def test_a_worker_exits_at_once_with_its_own_status():
    # A process that imported onnxruntime, forked: the child used to hang at exit in its destructors.
    script = textwrap.dedent("""
        import os, sys, time, onnxruntime
        from faqbot.gunicorn_conf import worker_exit
        for code in (0, 3):  # 3: gunicorn's "worker failed to boot", which must reach the master
            pid = os.fork()
            if pid == 0:
                try:
                    sys.exit(code)
                finally:
                    worker_exit(None, None)
            deadline, done, status = time.monotonic() + 10, 0, 0
            while not done and time.monotonic() < deadline:
                done, status = os.waitpid(pid, os.WNOHANG)
                time.sleep(0.05)
            if not done:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            print(os.waitstatus_to_exitcode(status) if done else "hung")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.stdout.split() == ["0", "3"], out.stdout + out.stderr
