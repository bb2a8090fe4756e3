"""Change the corpus without downtime: validate, swap atomically, reach every worker, refuse a broken corpus."""
import time

import pytest
from servers import ChatLoad, post_json, serve_app
from staff_fixtures import BEARER, CORPUS, Console, corpus_dir, make_app  # noqa: F401

from faqbot import reindex
from faqbot.knowledge import corpus
from faqbot.cli import main

NEW_DOC = """---
id: cupping
title: Cupping Therapy
---

# What is cupping?

Q: What is cupping?
Cupping is a therapy in which a therapist places special cups on the skin to create suction. Many
remedial therapists combine cupping with massage to loosen tight fascia and to draw blood flow to
sore areas. The marks it leaves usually fade within a few days.
"""
CUPPING = "What is cupping therapy?"


def chat_type(client, message=CUPPING) -> str:
    return client.post("/api/chat", json={"message": message}).get_json()["type"]


def caught_up(app) -> None:
    """Let a worker notice a published version (on a request) and finish rebuilding in the background."""
    app.test_client().get("/healthz")
    assert app.extensions["faqbot.reindexer"].wait(30)


@pytest.fixture
def app(tmp_path, corpus_dir):
    """An app on an editable copy of the corpus that looks for new versions on every request."""
    return make_app(tmp_path, CORPUS_DIR=str(corpus_dir), REINDEX_CHECK_SECONDS=0)


def test_reindex_swaps_in_a_new_document(app, corpus_dir):
    client = app.test_client()
    assert chat_type(client) == "fallback"
    before = client.get("/api/staff/corpus", headers=BEARER).get_json()["corpus"]
    (corpus_dir / "900-cupping.md").write_text(NEW_DOC)
    assert chat_type(client) == "fallback"  # edits alone change nothing until a reindex
    response = client.post("/api/staff/reindex", headers=BEARER)
    assert response.status_code == 200
    after = response.get_json()["corpus"]
    assert after["hash"] != before["hash"] and after["passages"] > before["passages"]
    assert "cupping" in [d["id"] for d in after["documents"]]
    assert chat_type(client) == "answer"


def test_a_broken_corpus_is_refused_and_the_old_index_keeps_serving(app, corpus_dir):
    client = app.test_client()
    before = client.get("/api/staff/corpus", headers=BEARER).get_json()["corpus"]
    (corpus_dir / "900-cupping.md").write_text(NEW_DOC)
    (corpus_dir / "901-empty.md").write_text("---\ntitle: Nothing here\n---\n")
    (corpus_dir / "902-bad.txt").write_bytes(b"\xff\xfe bad bytes")
    response = client.post("/api/staff/reindex", headers=BEARER)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "corpus_invalid"
    assert "901-empty.md: empty" in error["message"] and "902-bad.txt: not UTF-8" in error["message"]
    assert client.get("/api/staff/corpus", headers=BEARER).get_json()["corpus"] == before
    assert chat_type(client) == "fallback" and chat_type(client, "What is remedial massage?") == "answer"


def test_console_button_reindexes_and_lists_problems(app, corpus_dir):
    console = Console(app.test_client())
    (corpus_dir / "901-empty.md").write_text("---\ntitle: Nothing here\n---\n")
    page = console.client.get(console.post("/staff/reindex").location).text
    assert "the old index keeps serving" in page and "901-empty.md: empty" in page
    (corpus_dir / "901-empty.md").write_text(NEW_DOC)
    page = console.client.get(console.post("/staff/reindex").location).text
    assert "Reindexed: version" in page and "Cupping Therapy" in page


def test_every_worker_follows_a_reindex(tmp_path, corpus_dir):
    # Two apps on one database and corpus stand in for two gunicorn workers.
    one = make_app(tmp_path, CORPUS_DIR=str(corpus_dir), REINDEX_CHECK_SECONDS=0).test_client()
    two = make_app(tmp_path, CORPUS_DIR=str(corpus_dir), REINDEX_CHECK_SECONDS=0)
    (corpus_dir / "900-cupping.md").write_text(NEW_DOC)
    assert one.post("/api/staff/reindex", headers=BEARER).status_code == 200
    caught_up(two)  # noticed on its next request, rebuilt while the old index kept answering
    assert chat_type(two.test_client()) == "answer"


def test_a_worker_rebuilds_beside_its_requests_not_inside_one(tmp_path, corpus_dir, monkeypatch):
    one = make_app(tmp_path, CORPUS_DIR=str(corpus_dir), REINDEX_CHECK_SECONDS=0).test_client()
    two = make_app(tmp_path, CORPUS_DIR=str(corpus_dir), REINDEX_CHECK_SECONDS=0)
    (corpus_dir / "900-cupping.md").write_text(NEW_DOC)
    assert one.post("/api/staff/reindex", headers=BEARER).status_code == 200
    real_build = reindex.build_from
    monkeypatch.setattr(reindex, "build_from", lambda *args: (time.sleep(1.0), real_build(*args))[1])  # a big library
    started = time.monotonic()
    assert chat_type(two.test_client()) == "fallback"  # answered at once, from the old index
    assert time.monotonic() - started < 0.5
    caught_up(two)
    assert chat_type(two.test_client()) == "answer"


def test_cli_reindex_publishes_to_running_workers(tmp_path, corpus_dir, monkeypatch, runner):
    app = make_app(tmp_path, CORPUS_DIR=str(corpus_dir), REINDEX_CHECK_SECONDS=0)
    client = app.test_client()
    monkeypatch.setenv("FAQBOT_DATABASE", app.config["DATABASE"])
    monkeypatch.setenv("FAQBOT_CORPUS_DIR", str(corpus_dir))
    (corpus_dir / "901-empty.md").write_text("# Only a title\n")
    refused = runner.invoke(main, ["reindex"])
    assert refused.exit_code == 3 and "901-empty.md: empty" in refused.output
    assert chat_type(client) == "fallback"
    (corpus_dir / "901-empty.md").unlink()
    (corpus_dir / "900-cupping.md").write_text(NEW_DOC)
    result = runner.invoke(main, ["reindex"])
    assert result.exit_code == 0, result.output
    assert "6 documents" in result.output and "version" in result.output
    caught_up(app)
    assert chat_type(client) == "answer"


def test_a_worker_does_not_retry_a_broken_version_on_every_request(tmp_path, corpus_dir, caplog, monkeypatch):
    one = make_app(tmp_path, CORPUS_DIR=str(corpus_dir), REINDEX_CHECK_SECONDS=0)
    two = make_app(tmp_path, CORPUS_DIR=str(corpus_dir), REINDEX_CHECK_SECONDS=0)
    (corpus_dir / "900-cupping.md").write_text(NEW_DOC)
    assert one.test_client().post("/api/staff/reindex", headers=BEARER).status_code == 200
    attempts = []

    def broken(*args, **kwargs):  # say, the new version's passages need more memory than this worker has
        attempts.append(1)
        raise MemoryError("no room for the new index")
    monkeypatch.setattr(reindex, "build_from", broken)
    client = two.test_client()
    for _ in range(3):
        assert chat_type(client, "What is remedial massage?") == "answer"  # from the old index
        caught_up(two)
    assert len(attempts) == 1
    assert sum("rebuilding the index failed" in r.getMessage() for r in caplog.records) == 1


def test_reindex_under_concurrent_requests_drops_nothing(tmp_path, corpus_dir):
    app = make_app(tmp_path, CORPUS_DIR=str(corpus_dir), REINDEX_CHECK_SECONDS=0)
    base, stop = serve_app(app)
    questions = ["What is remedial massage?", CUPPING, "Does it help with posture?", "thanks!"]
    try:
        with ChatLoad(base, questions, threads=4) as load:
            for round_ in range(4):
                load.more(20)
                target = corpus_dir / "900-cupping.md"
                if round_ % 2 == 0:
                    target.write_text(NEW_DOC)
                else:
                    target.unlink()
                status, body = post_json(base, "/api/staff/reindex", headers=BEARER)
                assert status == 200 and body["ok"]
            load.more(20)
    finally:
        stop()
    assert load.errors == []
    assert len(load.answered) >= 100
    assert {t for q, t in load.answered if q == CUPPING} == {"answer", "fallback"}  # the swaps took effect live


def test_a_worker_that_cannot_start_a_rebuild_tries_again_later(tmp_path, corpus_dir, monkeypatch):
    one = make_app(tmp_path, CORPUS_DIR=str(corpus_dir), REINDEX_CHECK_SECONDS=0).test_client()
    two = make_app(tmp_path, CORPUS_DIR=str(corpus_dir), REINDEX_CHECK_SECONDS=0)
    (corpus_dir / "900-cupping.md").write_text(NEW_DOC)
    assert one.post("/api/staff/reindex", headers=BEARER).status_code == 200
    def no_thread(self):
        raise RuntimeError("can't start new thread")

    with monkeypatch.context() as patch:
        patch.setattr(reindex.threading.Thread, "start", no_thread)
        assert chat_type(two.test_client()) == "fallback"
    caught_up(two)  # the version was not marked as seen, so the next request starts the rebuild
    assert chat_type(two.test_client()) == "answer"


def test_an_instance_with_another_corpus_serves_the_published_knowledge(tmp_path, corpus_dir):
    # The knowledge lives in the database: an instance whose corpus/ was not redeployed still serves
    # what was published, the same as every other.
    one = make_app(tmp_path, CORPUS_DIR=str(corpus_dir), REINDEX_CHECK_SECONDS=0).test_client()
    two = make_app(tmp_path, CORPUS_DIR=str(CORPUS), REINDEX_CHECK_SECONDS=0)  # not deployed the new file
    (corpus_dir / "900-cupping.md").write_text(NEW_DOC)
    assert one.post("/api/staff/reindex", headers=BEARER).status_code == 200
    caught_up(two)
    assert chat_type(two.test_client()) == "answer"


def test_start_up_reads_each_corpus_file_once(tmp_path, corpus_dir, monkeypatch):
    # At 100,000 passages a second read in the master (to describe the corpus) costs a second full load.
    read = []
    real_read = corpus.read_document
    monkeypatch.setattr(corpus, "read_document", lambda path: (read.append(path.name), real_read(path))[1])
    app = make_app(tmp_path, CORPUS_DIR=str(corpus_dir))
    assert sorted(read) == sorted(p.name for p in corpus_dir.iterdir() if p.suffix in corpus.SUFFIXES)
    info = app.test_client().get("/api/staff/corpus", headers=BEARER).get_json()["corpus"]
    assert info["passages"] == len(app.extensions["faqbot"].index)
    assert len(info["documents"]) == len(read)
    assert info["hash"] == reindex.build(app.extensions["faqbot"].settings)[1].hash  # as a reindex would publish it


def test_a_lenient_start_describes_what_it_serves_and_a_reindex_the_new_corpus(tmp_path, corpus_dir):
    (corpus_dir / "901-empty.md").write_text("# Only a title\n")
    app = make_app(tmp_path, CORPUS_DIR=str(corpus_dir), CORPUS_STRICT=False)  # the bad file is skipped
    (corpus_dir / "900-cupping.md").write_text(NEW_DOC)  # edited after start-up, not yet reindexed
    client = app.test_client()
    info = client.get("/api/staff/corpus", headers=BEARER).get_json()["corpus"]
    assert info["passages"] == len(app.extensions["faqbot"].index)
    assert {d["file"] for d in info["documents"]} == {p.name for p in CORPUS.iterdir() if p.suffix in corpus.SUFFIXES}
    (corpus_dir / "901-empty.md").unlink()
    after = client.post("/api/staff/reindex", headers=BEARER).get_json()["corpus"]
    assert "cupping" in [d["id"] for d in after["documents"]]
    assert client.get("/api/staff/corpus", headers=BEARER).get_json()["corpus"] == after
