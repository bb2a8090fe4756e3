"""Two instances of the Procfile's server sharing a real PostgreSQL and Redis, as behind a load balancer."""
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import servers
from servers import eventually
from staff_fixtures import CORPUS, TOKEN
from test_staff_reindex import CUPPING, NEW_DOC

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_http import Server, procfile_command

LIMIT = 8  # chats per minute per client address; each test speaks from its own address


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    """PostgreSQL and Redis of this module's own: its last tests stop and restart them."""
    if not (servers.have_postgres() and servers.have_redis()):
        pytest.skip("PostgreSQL or Redis is not installed: run the tests with tests/run.sh")
    folder = Path(tempfile.mkdtemp(prefix="faqbot-pg-"))
    pg = servers.Postgres(folder).start()
    redis = servers.Redis(tmp_path_factory.mktemp("redis")).start()
    yield pg, redis
    redis.stop()
    pg.stop("immediate")
    shutil.rmtree(folder, ignore_errors=True)


class Instance:
    """One running server, spoken to over HTTP from a given client address."""

    def __init__(self, server: Server, port: int):
        self.server, self.base = server, f"http://127.0.0.1:{port}"

    def call(self, method: str, path: str, body: dict | None = None, client: str = "198.51.100.1",
             staff: bool = False) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json", "X-Forwarded-For": client}
        if staff:
            headers["Authorization"] = f"Bearer {TOKEN}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def chat(self, message: str, session_id: str | None = None, client: str = "198.51.100.1") -> dict:
        status, body = self.call("POST", "/api/chat", {"message": message, **({"session_id": session_id}
                                                                             if session_id else {})}, client)
        assert status == 200, body
        return body


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    target = tmp_path_factory.mktemp("shared") / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture(scope="module")
def pair(backends, corpus, tmp_path_factory):
    """Two instances, one gunicorn worker each, configured only through the environment."""
    pg, redis = backends
    logs = tmp_path_factory.mktemp("logs")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_")},
           "PYTHONPATH": str(REPO), "WEB_CONCURRENCY": "1", "DATABASE_URL": pg.url(),
           "FAQBOT_RATELIMIT_STORAGE_URI": redis.url, "FAQBOT_RATELIMIT_CHAT": f"{LIMIT}/minute",
           "FAQBOT_TRUSTED_PROXIES": "1", "FAQBOT_STAFF_TOKEN": TOKEN, "FAQBOT_CORPUS_DIR": str(corpus),
           "FAQBOT_REINDEX_CHECK_SECONDS": "0.2", "FAQBOT_ACCESS_LOG": "false"}
    instances = []
    for name in ("a", "b"):
        port = servers.free_port()
        server = Server(name, procfile_command(port, environ=env), env, f"http://127.0.0.1:{port}/healthz",
                        f"http://127.0.0.1:{port}/api/chat", logs / f"{name}.log")
        server.start(workers=1)
        instances.append(Instance(server, port))
    yield instances
    for instance in instances:
        instance.server.stop()


def test_a_conversation_started_on_one_continues_on_the_other(pair):
    a, b = pair
    opening = a.chat("my calf hurts after a long flight", client="198.51.100.10")
    follow = b.chat("it's hot and swollen", opening["session_id"], client="198.51.100.10")
    assert follow["type"] == "urgent"  # read with the calf from the turn the other instance served


def test_feedback_given_on_one_shows_in_the_others_console(pair):
    a, b = pair
    reply = a.chat("Can remedial massage help with sciatica?", client="198.51.100.11")
    status, _ = a.call("POST", "/api/feedback", {"session_id": reply["session_id"], "reply_id": reply["reply_id"],
                                                 "vote": "down", "comment": "shared across instances"})
    assert status == 201
    # The other instance's console sees it once the first one's question-log writer has run (every
    # 0.05 s; its own console flushes first, another instance's cannot).
    def shown():
        status, log = b.call("GET", "/api/staff/log", staff=True)
        return status == 200 and "shared across instances" in [d["comment"] for d in log["downvotes"]]
    assert eventually(shown, seconds=5)


def test_rate_limits_are_shared(pair):
    a, b = pair
    statuses = [(a if n % 2 else b).call("POST", "/api/chat", {"message": "hi"}, client="198.51.100.12")[0]
                for n in range(LIMIT + 2)]
    assert statuses[:LIMIT] == [200] * LIMIT and statuses[LIMIT:] == [429, 429]  # not LIMIT per instance


def test_a_reindex_on_one_reaches_the_other(pair, corpus):
    a, b = pair
    assert b.chat(CUPPING, client="198.51.100.13")["type"] == "fallback"
    (corpus / "900-cupping.md").write_text(NEW_DOC)
    status, body = a.call("POST", "/api/staff/reindex", staff=True)
    assert status == 200, body
    # Each worker of the other instance looks for a new version every 0.2 s and rebuilds beside its
    # requests; every worker must have it (each poll speaks from a new address: limits are not tested here).
    addresses = (f"10.{n // 250}.{n % 250}.1" for n in itertools.count(1))
    assert eventually(lambda: all(b.chat(CUPPING, client=next(addresses))["type"] == "answer" for _ in range(6)))


def test_a_staff_publish_and_rollback_on_one_reach_the_other(pair):
    a, b = pair
    addresses = (f"10.9.{n // 250}.{n % 250}" for n in itertools.count(1))
    parking = "Is there parking at the clinic?"
    assert b.chat(parking, client=next(addresses))["type"] == "fallback"
    status, made = a.call("POST", "/api/staff/answers", {"questions": [parking, "Where can I park?"],
                                                        "answer": "Free parking behind the clinic."}, staff=True)
    assert status == 201, made
    status, published = a.call("POST", "/api/staff/publish", {"confirm": True}, staff=True)
    assert status == 200 and published["published"], published
    # Every worker of the other instance, from the database: within a few seconds, each poll a new address.
    assert eventually(lambda: all(b.chat(parking, client=next(addresses))["type"] == "answer" for _ in range(4)),
                      seconds=10)
    status, versions = b.call("GET", "/api/staff/versions", staff=True)
    before = versions["versions"][1]["version"]
    assert b.call("POST", "/api/staff/rollback", {"version": before}, staff=True)[0] == 200
    assert eventually(lambda: all(a.chat(parking, client=next(addresses))["type"] == "fallback" for _ in range(4)),
                      seconds=10)


def test_postgres_down_visitors_still_answered_then_logging_recovers(pair, backends):
    a, b = pair
    pg, _ = backends
    before = a.chat("What is remedial massage?", client="198.51.100.14")
    pg.stop("immediate")
    during = []
    try:
        for instance in (a, b, a, b):
            started = time.monotonic()
            reply = instance.chat("Does it help with posture?", client="198.51.100.14")
            assert reply["type"] == "answer" and reply["disclaimer"]
            assert time.monotonic() - started < 2.0  # a dead database is skipped, not waited on
            during.append(reply)
        # Still ready: this instance answers visitors; taking every instance out of a load balancer
        # over the question log would turn a logging outage into a total one.
        status, body = a.call("GET", "/readyz")
        assert status == 200 and "question_log" in body
    finally:
        pg.start()
    # The rows waited in each worker's spool and are written once the database is back.
    def all_logged():
        during[:] = [reply for reply in during if not logged(a, reply)]
        return not during
    assert eventually(all_logged)  # none lost
    assert eventually(lambda: logged(a, b.chat("How often should I get a massage?", client="198.51.100.15")))
    assert eventually(lambda: logged(a, before))  # what was stored before the outage is still there
    assert eventually(lambda: a.call("GET", "/readyz")[1]["checks"]["database"] is True)


# Each poll votes from a new address: the feedback limit is not what these tests are about.
VOTERS = (f"10.{200 + n // 250}.{n % 250}.1" for n in itertools.count(1))


def logged(instance: Instance, reply: dict) -> bool:
    """Tell whether the log holds a reply: feedback is accepted only on a logged reply (503 while down)."""
    status, _ = instance.call("POST", "/api/feedback", {"session_id": reply["session_id"],
                                                        "reply_id": reply["reply_id"], "vote": "up"},
                              client=next(VOTERS))
    return status == 201


def test_redis_down_visitors_still_answered(pair, backends):
    a, b = pair
    _, redis = backends
    redis.stop()
    try:
        # The staff console first: its lockout counts wrong tokens in the limiter's store too.
        assert b.call("GET", "/api/staff/corpus", staff=True)[0] == 200
        assert b.call("GET", "/api/staff/corpus", client="198.51.100.17")[0] == 401
        for instance in (a, b):
            assert instance.chat("What is remedial massage?", client="198.51.100.16")["type"] == "answer"
            status, ready = instance.call("GET", "/readyz")
            assert status == 200 and ready["limits"] == "local"  # said, and still ready
    finally:
        redis.start()
    # Back to the shared store once its retry time has passed (5 s); one warning for the outage, one line after.
    assert eventually(lambda: a.chat("What is remedial massage?", client=next(VOTERS)) and
                      a.call("GET", "/readyz")[1]["limits"] == "shared", seconds=15)
    log = a.server.log.read_text(errors="replace")
    assert log.count("rate-limit storage unreachable") == 1 and "rate-limit storage is answering again" in log
