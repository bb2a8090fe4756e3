"""Where a starting instance takes its knowledge from: the database, with corpus/ as the seed."""
import shutil

import pytest
from staff_fixtures import BEARER, TOKEN, corpus_dir  # noqa: F401

from faqbot import create_app
from faqbot.knowledge.corpus import CorpusError


def start(tmp_path, corpus, **config):
    return create_app({"TESTING": True, "DATABASE": str(tmp_path / "k.sqlite3"), "STAFF_TOKEN": TOKEN,
                       "CORPUS_DIR": str(corpus), **config})


def publish_parking(app):
    client = app.test_client()
    client.post("/api/staff/answers", headers=BEARER,
                json={"questions": ["Is there parking?"], "answer": "Free parking behind the clinic."})
    assert client.post("/api/staff/publish", headers=BEARER, json={}).status_code == 200


def test_a_start_without_the_corpus_folder_serves_what_was_published(tmp_path, corpus_dir):
    publish_parking(start(tmp_path, corpus_dir))
    shutil.rmtree(corpus_dir)
    again = start(tmp_path, corpus_dir)
    assert again.extensions["faqbot.corpus"].version == 2
    assert again.test_client().post("/api/chat", json={"message": "Is there parking?"}).get_json()["type"] == "answer"


def test_a_bad_corpus_file_still_refuses_a_strict_start_and_a_lenient_one_skips_it(tmp_path, corpus_dir):
    publish_parking(start(tmp_path, corpus_dir))
    (corpus_dir / "901-empty.md").write_text("# Only a title\n")
    with pytest.raises(CorpusError, match="901-empty.md: empty"):
        start(tmp_path, corpus_dir)
    lenient = start(tmp_path, corpus_dir, CORPUS_STRICT=False)  # the good files unchanged: nothing new to publish
    assert lenient.extensions["faqbot.corpus"].version == 2


def test_a_restart_on_an_unchanged_corpus_publishes_nothing_new(tmp_path, corpus_dir):
    first = start(tmp_path, corpus_dir)
    assert first.extensions["faqbot.corpus"].version == 1
    assert start(tmp_path, corpus_dir).extensions["faqbot.corpus"].version == 1
    (corpus_dir / "000-top-benefits.md").write_text(
        (corpus_dir / "000-top-benefits.md").read_text() + "\n\nQ: Is it good for posture?\nA new paragraph on "
        "posture and the desk, long enough to stand as a passage of its own in the article.\n")
    changed = start(tmp_path, corpus_dir)
    assert changed.extensions["faqbot.corpus"].version == 2
    history = changed.test_client().get("/api/staff/versions", headers=BEARER).get_json()["versions"]
    assert history[0]["author"] == "corpus/" and history[0]["changes"][0] == "imported corpus/"


def test_a_start_on_a_changed_corpus_lays_the_unpublished_draft_over_the_new_articles(tmp_path, corpus_dir):
    first = start(tmp_path, corpus_dir)
    first.test_client().post("/api/staff/answers", headers=BEARER,
                             json={"questions": ["Is there parking?"], "answer": "Free parking behind the clinic."})
    (corpus_dir / "900-cupping.md").write_text("# Cupping\n\nCupping places cups on the skin to create suction, "
                                               "loosening tight fascia and drawing blood flow to sore areas.\n")
    again = start(tmp_path, corpus_dir)
    assert again.extensions["faqbot.corpus"].version == 2
    draft = again.test_client().get("/api/staff/knowledge", headers=BEARER).get_json()["draft"]
    assert draft["base"] == 2 and draft["changes"] == ["clinic answer added: is-there-parking"]
