"""A slow client holds only its own slot; oversized or odd bodies get clear JSON errors. Real gunicorn on loopback."""
from __future__ import annotations

import http.client
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_http import children, procfile_command  # noqa: E402
from benchlib import child_env  # noqa: E402
from netutil import free_port  # noqa: E402

BODY_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def server():
    """The Procfile's command on a loopback port (2 workers), with a 1 s body deadline."""
    folder = Path(tempfile.mkdtemp(prefix="faqbot-slow-"))
    port = free_port()
    env = child_env(str(folder / "d.sqlite3"), PORT=str(port), WEB_CONCURRENCY="2",
                    FAQBOT_BODY_TIMEOUT=str(BODY_TIMEOUT), FAQBOT_ACCESS_LOG="false")
    log = open(folder / "server.log", "wb")
    proc = subprocess.Popen(procfile_command(port), env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (folder / "server.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "server did not start"
            if len(children(proc.pid)) >= 2:
                try:
                    if get(port, "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def chat(port: int, message: str = "What is remedial massage?") -> tuple[int, dict, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    try:
        conn.request("POST", "/api/chat", body=json.dumps({"message": message}),
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read()), time.perf_counter() - started
    finally:
        conn.close()


def raw_request(port: int, head: bytes, body: bytes, timeout: float = 5) -> tuple[int, dict, bytes]:
    """Send bytes as they are; return the status, the JSON body and the raw response."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head + body)
        return read_response(sock)


def read_response(sock: socket.socket) -> tuple[int, dict, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
                  None)
    while length is not None and len(rest) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        rest += piece
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else 0
    try:
        body = json.loads(rest)
    except ValueError:
        body = {}
    return status, body, data


def test_slow_bodies_hold_only_their_own_slot_and_get_a_json_408(server):
    slow = []
    for _ in range(20):  # promise 100 bytes, send 20, then stall
        sock = socket.create_connection(("127.0.0.1", server), timeout=BODY_TIMEOUT + 4)
        sock.sendall(b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n" + b'{"message": "slow ..')
        slow.append(sock)
    try:
        latencies: list[float] = []
        errors: list = []

        def visitor(seconds=0.6, warm=0.3):
            warm_until = time.monotonic() + warm  # unmeasured: each thread's first chat opens its connection
            while time.monotonic() < warm_until:
                chat(server)
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                try:
                    status, body, took = chat(server)
                except OSError as exc:
                    errors.append(repr(exc))
                    return
                if status != 200:
                    errors.append((status, body))
                latencies.append(took)

        threads = [threading.Thread(target=visitor) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert not errors, errors[:3]
        assert len(latencies) >= 20, latencies
        p99 = statistics.quantiles(latencies, n=100)[98]
        print(f"\n{len(latencies)} chats beside 20 slow bodies: p50 {statistics.median(latencies) * 1000:.1f} ms, "
              f"p99 {p99 * 1000:.1f} ms")
        assert p99 <= 0.05, f"p99 {p99 * 1000:.0f} ms"
        started = time.monotonic()
        for sock in slow:
            status, body, raw = read_response(sock)
            assert status == 408, raw[:300]
            assert body["error"]["code"] == "request_timeout" and body["error"]["message"], body
            assert b"application/json" in raw.split(b"\r\n\r\n")[0].lower()
        assert time.monotonic() - started < BODY_TIMEOUT + 2
    finally:
        for sock in slow:
            sock.close()
    assert chat(server)[0] == 200  # and the threads they held are free again


def chunked(body: bytes, size: int = 4096) -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size))
    return out + b"0\r\n\r\n"


CHUNKED_HEAD = (b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")


def test_chunked_body_over_the_limit_gets_413_like_a_content_length_one(server):
    valid = json.dumps({"message": "What is remedial massage?", "pad": "x" * (16 * 1024 - 60)}).encode()
    assert len(valid) <= 16 * 1024
    status, body, raw = raw_request(server, CHUNKED_HEAD, chunked(valid + b" " * 20_000))
    assert status == 413 and body["error"]["code"] == "body_too_large", raw[:300]
    head = (b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % (len(valid) + 20_000))
    status, body, _ = raw_request(server, head, valid + b" " * 20_000)
    assert status == 413 and body["error"]["code"] == "body_too_large"
    # Within the limit, chunked is fine.
    status, body, raw = raw_request(server, CHUNKED_HEAD, chunked(json.dumps({"message": "What is remedial massage?"}).encode()))
    assert status == 200 and body["type"] == "answer", raw[:300]


def test_a_huge_integer_gets_a_400_that_says_so(server):
    body = b'{"message": "What is remedial massage?", "n": ' + b"9" * 5000 + b"}"
    head = (b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))
    status, reply, raw = raw_request(server, head, body)
    assert status == 400 and reply["error"]["code"] == "number_too_long", raw[:400]
    assert "digits" in reply["error"]["message"] and "not valid JSON" not in reply["error"]["message"]
