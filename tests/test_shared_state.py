"""Two apps on one database behave as one service: on SQLite, and on PostgreSQL as separate instances would."""
import csv
import io
import time

import pytest
from staff_fixtures import BEARER, TOKEN, corpus_dir  # noqa: F401
from test_staff_reindex import CUPPING, NEW_DOC, caught_up

from faqbot import create_app

pytestmark = pytest.mark.stores("sqlite", "postgres")


@pytest.fixture
def pair(database, corpus_dir):
    """Two apps (as two instances would be) on the same database and corpus folder."""
    config = {"TESTING": True, "STAFF_TOKEN": TOKEN, "CORPUS_DIR": str(corpus_dir), "REINDEX_CHECK_SECONDS": 0,
              **database}
    apps = [create_app(config), create_app(config)]
    yield [a.test_client() for a in apps]
    for a in apps:
        a.extensions["faqbot.store"].close()


def chat(client, message, session_id=None):
    body = {"message": message, **({"session_id": session_id} if session_id else {})}
    response = client.post("/api/chat", json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_conversation_continues_on_the_other_instance(database, corpus_dir):
    # The safety rules alone (semantic model off): their two-turn reading is what shows the shared
    # history here; by meaning, "it's hot and swollen" is a red flag even alone.
    config = {"TESTING": True, "CORPUS_DIR": str(corpus_dir), "SEMANTIC": False, **database}
    apps = [create_app(config), create_app(config)]
    first, second = (a.test_client() for a in apps)
    opening = chat(first, "my calf hurts after a long flight")
    assert chat(second, "it's hot and swollen")["type"] != "urgent"  # alone, no body part to read it with
    follow = chat(second, "it's hot and swollen", opening["session_id"])
    assert follow["type"] == "urgent" and follow["session_id"] == opening["session_id"]
    for a in apps:
        a.extensions["faqbot.store"].close()


def test_feedback_given_on_one_shows_in_the_others_console(pair):
    first, second = pair
    reply = chat(first, "What is remedial massage?")
    body = {"session_id": reply["session_id"], "reply_id": reply["reply_id"], "vote": "down", "comment": "too vague"}
    assert first.post("/api/feedback", json=body).status_code == 201
    # The first instance's question-log writer runs every 0.05 s; the second's console flushes
    # only its own, so it sees the row once that writer has run.
    deadline = time.monotonic() + 5
    while (log := second.get("/api/staff/log", headers=BEARER).get_json())["total"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert log["total"] == 1 and log["votes"] == {"up": 0, "down": 1}
    assert [(d["message"], d["comment"]) for d in log["downvotes"]] == [("What is remedial massage?", "too vague")]
    export = second.get("/api/staff/export.csv", headers=BEARER)
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["message"], r["votes_down"], r["comments"]) for r in rows] == [
        ("What is remedial massage?", "1", "too vague")]


def test_feedback_on_a_reply_from_another_session_is_refused(pair):
    first, second = pair
    reply = chat(first, "What is remedial massage?")
    body = {"session_id": "someone-else-123", "reply_id": reply["reply_id"], "vote": "up"}
    assert second.post("/api/feedback", json=body).status_code == 404


def test_a_reindex_on_one_reaches_the_other(pair, corpus_dir):
    first, second = pair
    assert chat(second, CUPPING)["type"] == "fallback"
    (corpus_dir / "900-cupping.md").write_text(NEW_DOC)
    assert first.post("/api/staff/reindex", headers=BEARER).status_code == 200
    caught_up(second.application)  # its next request notices the version; the rebuild runs beside the requests
    assert chat(second, CUPPING)["type"] == "answer"
    assert second.get("/api/staff/corpus", headers=BEARER).get_json()["corpus"]["passages"] == \
        first.get("/api/staff/corpus", headers=BEARER).get_json()["corpus"]["passages"]


def test_readyz_checks_the_database(pair):
    assert pair[0].get("/readyz").get_json()["checks"]["database"] is True
