"""Faults: the database locked, unwritable or deleted while running; a broken corpus at start-up."""
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faqbot import create_app
from faqbot.storage import sqlite as store_sqlite
from faqbot.knowledge.corpus import CorpusError

REPO = Path(__file__).resolve().parent.parent
REAL_CONNECT = sqlite3.connect


@pytest.fixture
def faults(monkeypatch):
    """Switch the store's database connections between healthy and a fault, without a real disk failure.

    The store reconnects after every error, so a fault set here holds until it is cleared.
    """
    state = {"fault": None}

    def connect(path, *args, **kwargs):
        kwargs["timeout"] = 0.2  # the store waits 5 s for a lock; the behaviour, not the wait, is tested
        fault = state["fault"]
        if fault == "read-only":  # as a read-only mount or a file the worker may not write
            return REAL_CONNECT(Path(path).resolve().as_uri() + "?mode=ro", *args, uri=True, **kwargs)
        conn = REAL_CONNECT(path, *args, **kwargs)
        if fault == "disk full":
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr("faqbot.storage.sqlite.sqlite3.connect", connect)
    return state


def rows(db: str, table: str) -> int:
    conn = REAL_CONNECT(db)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def ask(client, message="Can remedial massage help with back pain?"):
    response = client.post("/api/chat", json={"message": message})
    assert response.status_code == 200 and response.get_json()["answer"]
    return response.get_json()


@pytest.mark.parametrize("fault", ["locked", "read-only", "disk full"])
def test_database_fault_keeps_answering_then_recovers_losing_nothing(app, client, faults, caplog, fault):
    db = app.config["DATABASE"]
    app.extensions["faqbot.store"].close()  # reconnect through the fault switch
    before = ask(client)
    vote = {"session_id": before["session_id"], "reply_id": before["reply_id"], "vote": "up"}
    assert client.post("/api/feedback", json=vote).status_code == 201
    locker = None
    if fault == "locked":  # another process mid-write, e.g. a staff export or a backup
        locker = REAL_CONNECT(db, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
    else:
        faults["fault"] = fault
        app.extensions["faqbot.store"].close()
    questions = app.extensions["faqbot.log"]
    # INFO from here on: the writer may fail and recover while the fault holds (a full disk still takes
    # a row that fits a free page), and both messages must be seen whenever they happen.
    caplog.set_level(logging.INFO, logger="faqbot.storage")
    during = [ask(client, "Can remedial massage help with back pain? " + "and my neck " * 79)["reply_id"]
              for _ in range(6)]  # long messages, so a full disk can't absorb them in free pages
    down = client.post("/api/feedback", json=vote)
    if not (fault == "disk full" and down.status_code == 201):  # a small row may still fit a free page
        assert down.status_code == 503 and down.get_json()["error"]["code"] == "unavailable"
    assert any("carrying on without it" in r.getMessage() for r in caplog.records)
    if locker:
        locker.execute("ROLLBACK")
        locker.close()
    faults["fault"] = None
    # A simulated fault lives in the connection's settings, a real one on the disk: drop the connection
    # so the repaired disk is what the store sees next.
    app.extensions["faqbot.store"].close()
    # The background writer catches up by itself (a connection it opened during the fault fails once
    # more and is replaced; a real repaired disk has no such leftover), and says so once.
    deadline = time.monotonic() + 10
    while questions.pending and time.monotonic() < deadline:
        time.sleep(0.05)
    assert questions.pending == 0 and questions.state()["state"] == "ok"
    said = [r.getMessage() for r in caplog.records if r.name.startswith("faqbot.storage")]
    outages = sum("carrying on without it" in m for m in said)
    # One warning when an outage starts, one line when it ends: a lock or a read-only file is one
    # outage; a full disk may be several (a row that fits a free page is a success in between).
    assert outages >= 1 and sum("answering again" in m for m in said) == outages, said
    assert outages == 1 or fault == "disk full", said
    caplog.set_level(logging.WARNING, logger="faqbot.storage")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="faqbot.storage"):
        after = ask(client)
        follow = client.post("/api/chat", json={"message": "how often should I go?", "session_id": after["session_id"]})
    assert follow.status_code == 200 and not caplog.records
    assert app.extensions["faqbot.log"].flush(5)  # what waited in the spool, written in the background
    conn = REAL_CONNECT(db)
    stored = {row[0] for row in conn.execute("SELECT reply_id FROM questions")}
    voted = {row[0] for row in conn.execute("SELECT reply_id FROM feedback")}
    conn.close()
    assert {before["reply_id"], *during, after["reply_id"], follow.get_json()["reply_id"]} <= stored  # none lost
    assert voted == {before["reply_id"]}


def test_deleted_database_still_answers_and_is_recreated_for_new_rows(app, client, monkeypatch, caplog):
    monkeypatch.setattr(store_sqlite, "STAT_EVERY", 0.0)  # notice the deletion at once, not within 0.5 s
    ask(client)
    for path in Path(app.config["DATABASE"]).parent.glob("faqbot.sqlite3*"):
        path.unlink()
    with caplog.at_level(logging.WARNING, logger="faqbot.storage"):
        reply = ask(client)
    assert reply["type"] == "answer"
    assert any("deleted or replaced" in r.getMessage() for r in caplog.records)  # said, once
    assert app.extensions["faqbot.log"].flush(5)
    assert client.get("/readyz").status_code == 200
    assert client.get("/healthz").status_code == 200
    # The first question's row too: unless the writer wrote it before the deletion, it waited in the spool.
    assert rows(app.config["DATABASE"], "questions") in (1, 2), reply


# --- the corpus at start-up --------------------------------------------------------------------

@pytest.fixture
def corpus(tmp_path):
    """A copy of the shipped corpus that a test may break."""
    return Path(shutil.copytree(REPO / "corpus", tmp_path / "corpus"))


def start(tmp_path, corpus_dir, **config):
    return create_app({"TESTING": True, "DATABASE": str(tmp_path / "d.sqlite3"), "CORPUS_DIR": str(corpus_dir),
                       **config})


def unreadable(path: Path, monkeypatch):
    """Make one file unreadable (root reads anything, so then fake the permission error)."""
    path.chmod(0)
    if os.geteuid() == 0:
        read_bytes = Path.read_bytes

        def refuse(self):
            if self == path:
                raise PermissionError(13, "Permission denied")
            return read_bytes(self)
        monkeypatch.setattr(Path, "read_bytes", refuse)


@pytest.mark.parametrize("breakage, named", [
    ("missing", "corpus directory not found"),
    ("empty", "no .md or .txt documents"),
    ("blank file", "zz-blank.md: empty"),
    ("not utf-8", "zz-latin1.md: not UTF-8"),
    ("unreadable", "zz-locked.md: unreadable"),
])
def test_broken_corpus_stops_start_up_naming_the_file(tmp_path, corpus, monkeypatch, breakage, named):
    if breakage == "missing":
        shutil.rmtree(corpus)
    elif breakage == "empty":
        for path in corpus.iterdir():
            path.unlink()
    elif breakage == "blank file":
        (corpus / "zz-blank.md").write_text("   \n\n")
    elif breakage == "not utf-8":
        (corpus / "zz-latin1.md").write_bytes("# Café\n\nMassage à la française.".encode("latin-1"))
    else:
        (corpus / "zz-locked.md").write_text("# Locked\n\nA paragraph of text about massage.\n")
        unreadable(corpus / "zz-locked.md", monkeypatch)
    with pytest.raises(CorpusError) as raised:
        start(tmp_path, corpus)
    assert any(named in problem for problem in raised.value.problems), raised.value.problems


def test_one_bad_file_is_skipped_with_a_warning_when_not_strict(tmp_path, corpus, caplog):
    (corpus / "zz-latin1.md").write_bytes("# Café\n\nMassage à la française.".encode("latin-1"))
    with caplog.at_level(logging.WARNING):
        app = start(tmp_path, corpus, CORPUS_STRICT=False)
    assert any("zz-latin1.md" in r.getMessage() for r in caplog.records)
    reply = app.test_client().post("/api/chat", json={"message": "What is remedial massage?"}).get_json()
    assert reply["type"] == "answer"


def test_server_entry_point_exits_with_the_problems_listed_not_a_traceback(tmp_path, corpus):
    (corpus / "zz-latin1.md").write_bytes("# Café\n\nMassage à la française.".encode("latin-1"))
    env = {**os.environ, "FAQBOT_CORPUS_DIR": str(corpus), "FAQBOT_DATABASE": str(tmp_path / "d.sqlite3")}
    result = subprocess.run([sys.executable, "-c", "import faqbot.wsgi"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    assert "zz-latin1.md: not UTF-8" in result.stderr and "Traceback" not in result.stderr
