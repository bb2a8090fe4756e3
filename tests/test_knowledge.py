"""Staff edit the knowledge: a draft is not live; publish reaches every instance; evaluation gates it; rollback."""
import json
import time

import pytest
from servers import ChatLoad, eventually, post_json, serve_app
from staff_fixtures import BEARER, CORPUS, TOKEN, corpus_dir  # noqa: F401

from faqbot import create_app
from faqbot.cli import main
from faqbot.knowledge import editing
from faqbot.knowledge.content import (CLINIC_DOC, article_passages, changes, export, from_corpus, from_json,
                                      to_json)
from faqbot.knowledge.corpus import load_corpus
from faqbot.knowledge.editing import EditError
from faqbot.webapp.staff_limits import MAX_SETS

PRICES = {"questions": ["How much does a massage cost?", "What are your prices?"],
          "answer": "A 60-minute remedial massage is $110 and 30 minutes $70; health-fund rebates on the spot.",
          "link": "https://clinic.example/prices"}
PRICE_QUESTION = "What are your prices?"


def new_app(database, **config):
    return create_app({"TESTING": True, "STAFF_TOKEN": TOKEN, "REINDEX_CHECK_SECONDS": 0, **database, **config})


def call(client, method, path, body=None):
    response = client.open(f"/api/staff/{path}", method=method, headers=BEARER,
                           **({"json": body} if body is not None else {}))
    return response.status_code, response.get_json()


def chat(client, message):
    return client.post("/api/chat", json={"message": message}).get_json()


def caught_up(app):
    app.test_client().get("/healthz")
    assert app.extensions["faqbot.reindexer"].wait(30)


@pytest.fixture(scope="module")
def seed():
    return from_corpus(load_corpus(CORPUS)[0])


# -- the records and the edits, without a database ------------------------------------------------
def test_an_answer_needs_questions_and_text_within_limits(seed):
    for bad in ({"questions": [], "answer": "x"}, {"questions": ["ok?"], "answer": "  "},
                {"questions": ["ok?"], "answer": "x" * 1501}, {"questions": ["ok?"], "answer": "x", "link": "javascript:alert(1)"},
                {"questions": "", "answer": "x"}, {"questions": [3], "answer": "x"}):
        with pytest.raises(EditError) as refused:
            editing.add_answer(seed, bad.get("questions"), bad.get("answer"), bad.get("link"))
        assert refused.value.code == "invalid_field"
    knowledge, answer_id = editing.add_answer(seed, ["What are your prices?", "what are your PRICES?"], " $110\x00 ")
    assert answer_id == "what-are-your-prices"
    assert knowledge.answers[0].questions == ("What are your prices?",) and knowledge.answers[0].answer == "$110"


def test_text_that_tidies_to_nothing_is_blank(seed):
    """A control character is tidied to a space: text of nothing else is refused, not stored empty."""
    for questions, answer in ((["\x00"], "x"), (["ok?"], "\x00\x01 \x7f"), (["ok?", "\x1f"], "x")):
        with pytest.raises(EditError) as refused:
            editing.add_answer(seed, questions, answer)
        assert refused.value.code == "invalid_field"
    knowledge, _ = editing.add_answer(seed, "ok?\n\x00\n \x08", "x")  # the console's box: such lines are blank
    assert knowledge.answers[0].questions == ("ok?",)
    with pytest.raises(EditError):
        editing.edit_text(seed, article_passages(seed)[0].id, "\x00")


def test_questions_attach_and_come_off_and_an_articles_own_comes_back(seed):
    target = next(p for p in article_passages(seed) if p.questions)
    own = target.questions[0]
    k = editing.attach_question(seed, target.id, "my neck is stiff from the desk")
    k = editing.remove_question(k, target.id, own)
    edited = next(p for p in article_passages(k) if p.id == target.id)
    assert "my neck is stiff from the desk" in edited.questions and own not in edited.questions
    assert changes(seed, k) == [f"question on {target.id}: + my neck is stiff from the desk",
                                f"question on {target.id}: - {own}"]
    k = editing.attach_question(editing.remove_question(k, target.id, "my neck is stiff from the desk"), target.id, own)
    assert k.edits == {}  # back to the article as it was: no edit left behind
    with pytest.raises(EditError) as missing:
        editing.attach_question(seed, "no-such#1", "hello")
    assert missing.value.code == "not_found"


def test_a_passage_text_edit_is_split_into_sentences_and_can_be_undone(seed):
    pid = article_passages(seed)[0].id
    k = editing.edit_text(seed, pid, "First sentence here. Second one there.")
    p = article_passages(k)[0]
    assert p.text == "First sentence here. Second one there." and p.sentences == ("First sentence here.", "Second one there.")
    assert editing.edit_text(k, pid, None).edits == {}


def test_knowledge_survives_its_stored_form_and_a_changed_corpus(seed):
    k, _ = editing.add_answer(seed, PRICES["questions"], PRICES["answer"], PRICES["link"])
    pid = article_passages(k)[2].id
    k = editing.attach_question(k, pid, "does it fix slouching")
    assert from_json(json.dumps(to_json(k))) == k and from_json(to_json(k)).digest == k.digest
    reimported = from_corpus(list(seed.documents[:3]), k)  # a deploy dropped two articles
    assert reimported.answers == k.answers and reimported.edits == k.edits


def test_export_writes_corpus_files_that_read_back_to_the_same_passages(seed, tmp_path):
    k, _ = editing.add_answer(seed, PRICES["questions"], PRICES["answer"])
    pid = article_passages(k)[3].id
    # (A passage edited below 40 words would join its neighbour when the files are read again.)
    text = "An edited passage that says what the clinic wants it to say. " * 5
    k = editing.attach_question(editing.edit_text(k, pid, text), pid, "edited?")
    export(k, tmp_path)
    again = from_corpus(load_corpus(tmp_path)[0])
    assert [(p.id, p.text, p.questions) for p in article_passages(again)] == \
        [(p.id, p.text, p.questions) for p in article_passages(k)]
    assert json.loads((tmp_path / "clinic-answers.json").read_text())[0]["answer"] == PRICES["answer"]


# -- the staff API, on SQLite and PostgreSQL ------------------------------------------------------
@pytest.mark.stores("sqlite", "postgres")
def test_a_draft_is_not_live_until_published_and_reaches_another_instance(database):
    one, two = new_app(database), new_app(database)
    c1, c2 = one.test_client(), two.test_client()
    assert chat(c1, PRICE_QUESTION)["type"] == "fallback"  # the fixed "please contact the clinic"
    status, body = call(c1, "POST", "answers", PRICES)
    assert status == 201 and body["id"] and body["draft"]["changes"] == [f"clinic answer added: {body['id']}"]
    assert chat(c1, PRICE_QUESTION)["type"] == "fallback"  # a draft is not live
    status, tried = call(c1, "POST", "try", {"message": PRICE_QUESTION})
    assert tried["published"]["reply"]["type"] == "fallback" and tried["draft"]["reply"]["type"] == "answer"
    status, published = call(c1, "POST", "publish", {"author": "Robyn at reception"})
    assert status == 200 and published["version"] == 2 and published["evaluation"]["regressions"] == 0
    reply = chat(c1, PRICE_QUESTION)
    assert reply["type"] == "answer" and reply["answer"] == PRICES["answer"] and reply["disclaimer"]
    assert reply["passages"][0]["source"] == {"id": CLINIC_DOC, "title": one.config["CLINIC_NAME"], "heading": None,
                                               "url": PRICES["link"]}
    caught_up(two)
    assert chat(c2, PRICE_QUESTION)["type"] == "answer"  # the other instance, from the database
    status, versions = call(c2, "GET", "versions")
    assert [v["version"] for v in versions["versions"]] == [2, 1]
    assert versions["versions"][0]["author"] == "Robyn at reception"
    assert versions["versions"][0]["changes"][0].startswith("clinic answer added")
    status, rolled = call(c2, "POST", "rollback", {"version": 1})
    assert status == 200 and rolled == {"version": 3, "restored": 1}
    assert chat(c2, PRICE_QUESTION)["type"] == "fallback"
    caught_up(one)
    assert chat(c1, PRICE_QUESTION)["type"] == "fallback"  # rolled back everywhere
    restarted = new_app(database)  # a restart serves the newest version, not corpus/ afresh
    assert chat(restarted.test_client(), PRICE_QUESTION)["type"] == "fallback"
    assert restarted.extensions["faqbot.corpus"].version == 3


@pytest.mark.stores("sqlite", "postgres")
def test_a_regressing_draft_is_refused_with_the_diff_unless_confirmed(database):
    app = new_app(database, EVAL_FILE=str(CORPUS.parent / "eval" / "questions.json"))
    client = app.test_client()
    passage = chat(client, "What is remedial massage?")["passages"][0]["id"]
    status, _ = call(client, "PUT", "passages", {"passage": passage, "text": "Our opening hours are on the website."})
    assert status == 200
    status, refused = call(client, "POST", "publish", {})
    assert status == 409 and refused["error"]["code"] == "regression"
    assert refused["evaluation"]["regressions"] >= 1
    worse = refused["evaluation"]["changed"][0]
    assert worse["before"]["ok"] and not worse["after"]["ok"] and worse["question"]
    assert app.extensions["faqbot.corpus"].version == 1  # nothing published
    status, body = call(client, "POST", "publish", {"confirm": True})
    assert status == 200 and body["version"] == 2
    status, versions = call(client, "GET", "versions")
    assert "published despite regressions" in versions["versions"][0]["changes"]


def test_a_clinic_evaluation_set_gates_publishing_too(tmp_path):
    app = new_app({"DATABASE": str(tmp_path / "k.sqlite3")}, EVAL_FILE=str(tmp_path / "none.json"))
    client = app.test_client()
    cases = {"cases": [{"q": "Is remedial massage good for posture?", "kind": "answer", "expect": ["posture"]}]}
    response = client.put("/api/staff/eval-sets/posture", headers=BEARER, json=cases)
    assert response.status_code == 201 and response.get_json() == {"name": "posture", "cases": 1}
    passage = chat(client, cases["cases"][0]["q"])["passages"][0]["id"]
    call(client, "PUT", "passages", {"passage": passage, "text": "Nothing on the topic at all."})
    status, refused = call(client, "POST", "publish", {})
    assert status == 409 and refused["evaluation"]["sources"] == ["clinic set posture"]
    assert client.put("/api/staff/eval-sets/posture", headers=BEARER, json={"cases": [{"q": 1}]}).status_code == 400


def test_a_clinic_evaluation_set_past_the_limit_is_a_conflict_not_a_bad_request(tmp_path):
    client = new_app({"DATABASE": str(tmp_path / "k.sqlite3")}).test_client()
    cases = [{"q": "hi", "kind": "smalltalk"}]
    for n in range(MAX_SETS):
        assert client.put(f"/api/staff/eval-sets/set{n}", headers=BEARER, json=cases).status_code == 201
    refused = client.put("/api/staff/eval-sets/one-more", headers=BEARER, json=cases)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "too_many_sets"
    assert client.put("/api/staff/eval-sets/set0", headers=BEARER, json=cases * 2).get_json()["cases"] == 2  # replaced
    assert client.delete("/api/staff/eval-sets/set0", headers=BEARER).status_code == 200
    assert client.put("/api/staff/eval-sets/one-more", headers=BEARER, json=cases).status_code == 201


def test_a_clinic_answer_beats_the_topic_fallback_but_not_the_safety_gate(tmp_path):
    app = new_app({"DATABASE": str(tmp_path / "k.sqlite3")})
    client = app.test_client()
    call(client, "POST", "answers", {"questions": ["Do you have parking?"], "answer": "Free parking behind the clinic."})
    call(client, "POST", "answers", {"questions": ["I have chest pain, can I book a massage?"],
                                     "answer": "Yes, book online."})  # what staff must never be able to override
    assert call(client, "POST", "publish", {})[0] == 200
    assert chat(client, "is there parking?")["type"] == "answer"
    urgent = chat(client, "I have crushing chest pain right now, can I book a massage?")
    assert urgent["type"] == "urgent" and urgent["passages"] == []


def test_staff_text_is_kept_as_text_and_bad_input_gets_a_json_error(tmp_path):
    app = new_app({"DATABASE": str(tmp_path / "k.sqlite3")})
    client = app.test_client()
    markup = '<img src=x onerror="alert(1)"> Bring your referral <b>letter</b>.'
    status, body = call(client, "POST", "answers", {"questions": ["What should I bring?"], "answer": markup})
    assert status == 201
    call(client, "POST", "publish", {})
    assert chat(client, "What should I bring?")["answer"] == markup  # as typed: the widget shows it as text
    for path, payload, code in (("answers", {"questions": ["x?"], "answer": "y" * 5000}, "invalid_field"),
                                ("questions", {"passage": "nope#1", "question": "hi"}, "not_found"),
                                ("rollback", {"version": "2"}, "invalid_field"),
                                ("rollback", {"version": 42}, "not_found"),
                                ("publish", {"confirm": "yes"}, "invalid_field")):
        status, body = call(client, "POST", path, payload)
        assert 400 <= status < 500 and body["error"]["code"] == code, (path, body)
    assert call(client, "DELETE", "answers/none")[1]["error"]["code"] == "not_found"
    anonymous = client.post("/api/staff/answers", json={"questions": ["a?"], "answer": "b"})
    assert anonymous.status_code == 401 and anonymous.get_json()["error"]["code"]


def test_a_rollback_takes_a_whole_number_in_any_spelling_and_any_size(tmp_path):
    app = new_app({"DATABASE": str(tmp_path / "k.sqlite3")})
    client = app.test_client()
    assert call(client, "POST", "rollback", {"version": 1.0}) == (200, {"version": 2, "restored": 1})
    for version in (2 ** 63, 10 ** 30, 1e300):  # past what SQLite can look up: none such, not a crash
        status, body = call(client, "POST", "rollback", {"version": version})
        assert status == 404 and body["error"]["code"] == "not_found", version
    status, body = call(client, "POST", "rollback", {"version": 1.5})
    assert status == 400 and body["error"]["code"] == "invalid_field"


def test_proposals_attach_a_logged_question_in_one_step(tmp_path):
    app = new_app({"DATABASE": str(tmp_path / "k.sqlite3")})
    client = app.test_client()
    wording = "can a massage sort out my hunched shoulders from the laptop"
    response = client.get("/api/staff/proposals", headers=BEARER, query_string={"message": wording})
    candidates = response.get_json()["candidates"]
    assert len(candidates) == 3 and all(c["passage"] and c["text"] for c in candidates)
    status, body = call(client, "POST", "questions", {"passage": candidates[0]["passage"], "question": wording})
    assert status == 201 and body["draft"]["changes"] == [f"question on {candidates[0]['passage']}: + {wording}"]
    call(client, "POST", "publish", {})
    status, passages = call(client, "GET", f"passages?doc_id={candidates[0]['passage'].split('#')[0]}")
    assert wording in next(p for p in passages["passages"] if p["id"] == candidates[0]["passage"])["questions"]


def test_a_corpus_reimport_keeps_staff_work_and_rebases_the_draft(tmp_path, corpus_dir):
    app = new_app({"DATABASE": str(tmp_path / "k.sqlite3")}, CORPUS_DIR=str(corpus_dir))
    client = app.test_client()
    call(client, "POST", "answers", PRICES)
    call(client, "POST", "publish", {})
    call(client, "POST", "answers", {"questions": ["Do you have parking?"], "answer": "Behind the clinic."})
    (corpus_dir / "900-new.md").write_text("# Cupping\n\nCupping places cups on the skin to create suction, "
                                           "loosening tight fascia and drawing blood flow to sore areas.\n")
    assert client.post("/api/staff/reindex", headers=BEARER).status_code == 200
    assert chat(client, PRICE_QUESTION)["type"] == "answer"  # the published answer stayed
    status, knowledge = call(client, "GET", "knowledge")
    assert knowledge["draft"]["changes"] == ["clinic answer added: do-you-have-parking"]  # still only a draft
    assert knowledge["versions"][0]["changes"][:2] == ["imported corpus/", "passage added: 900-new#1"]


def test_a_fresh_install_publishes_the_clinic_answers_an_export_left(tmp_path, corpus_dir, monkeypatch):
    app = new_app({"DATABASE": str(tmp_path / "a.sqlite3")}, CORPUS_DIR=str(corpus_dir))
    client = app.test_client()
    call(client, "POST", "answers", PRICES)
    call(client, "POST", "publish", {})
    monkeypatch.setenv("FAQBOT_DATABASE", str(tmp_path / "a.sqlite3"))
    from click.testing import CliRunner
    result = CliRunner().invoke(main, ["export-corpus", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    moved = new_app({"DATABASE": str(tmp_path / "b.sqlite3")}, CORPUS_DIR=str(tmp_path / "out"))
    assert chat(moved.test_client(), PRICE_QUESTION)["type"] == "answer"
    assert len(moved.extensions["faqbot"].index) == len(app.extensions["faqbot"].index)


@pytest.mark.stores("sqlite", "postgres")
def test_chats_during_publish_and_rollback_see_no_error(database):
    app = new_app(database)
    base, stop = serve_app(app)
    try:
        with ChatLoad(base, [PRICE_QUESTION, "What is remedial massage?", "thanks!"], threads=3) as load:
            post_json(base, "/api/staff/answers", PRICES, BEARER)
            for round_ in range(3):
                time.sleep(0.2)
                status, body = post_json(base, "/api/staff/publish", {"confirm": True}, BEARER) if round_ % 2 == 0 \
                    else post_json(base, "/api/staff/rollback", {"version": 1}, BEARER)
                assert status == 200, body
                if round_ % 2:  # the draft is the rolled-back version again: write the answer anew
                    post_json(base, "/api/staff/answers", PRICES, BEARER)
            assert eventually(lambda: len(load.answered) > 60, seconds=10)
    finally:
        stop()
    assert load.errors == []


def test_a_stored_clinic_set_past_a_lowered_limit_is_skipped_not_a_500(tmp_path):
    db = {"DATABASE": str(tmp_path / "k.sqlite3")}
    client = new_app(db).test_client()
    cases = {"cases": [{"q": "Is remedial massage good for my posture at work?", "kind": "answer", "expect": ["posture"]}]}
    assert client.put("/api/staff/eval-sets/posture", headers=BEARER, json=cases).status_code == 201
    stricter = new_app(db, MAX_MESSAGE_LENGTH=20).test_client()
    call(stricter, "POST", "answers", {"questions": ["Is there parking?"], "answer": "Behind the clinic."})
    status, body = call(stricter, "POST", "publish", {})
    assert status == 200 and any("posture: skipped" in s for s in body["evaluation"]["sources"])


def test_a_chat_answered_by_a_clinic_answer_is_the_documented_chat_reply(tmp_path):
    from test_openapi import conforms
    app = new_app({"DATABASE": str(tmp_path / "k.sqlite3")})
    client = app.test_client()
    call(client, "POST", "answers", PRICES)
    call(client, "POST", "publish", {})
    for link in (PRICES["link"], None):  # with its link, and with none (the source is then /articles/clinic)
        response = client.post("/api/chat", json={"message": PRICE_QUESTION})
        assert response.get_json()["type"] == "answer"
        conforms(client.get("/api/openapi.json").get_json(), response, "/api/chat", "post")
        answer_id = response.get_json()["passages"][0]["id"].split("#", 1)[1]
        call(client, "PUT", f"answers/{answer_id}", {**PRICES, "link": link})
        call(client, "POST", "publish", {})
    page = client.get("/articles/clinic")
    assert page.status_code == 200 and PRICES["answer"].split(";")[0] in page.text


def test_the_bot_the_evaluation_ran_on_is_the_one_published(tmp_path, monkeypatch):
    from faqbot import reindex
    from faqbot.webapp import staff_knowledge
    app = new_app({"DATABASE": str(tmp_path / "k.sqlite3")})
    client = app.test_client()
    call(client, "POST", "answers", PRICES)
    built = []
    real = staff_knowledge.build_from
    monkeypatch.setattr(staff_knowledge, "build_from", lambda *a, **k: (built.append(1), real(*a, **k))[1])
    monkeypatch.setattr(reindex, "build_from", lambda *a, **k: pytest.fail("the draft was built a second time"))
    call(client, "POST", "try", {"message": PRICE_QUESTION})
    status, body = call(client, "POST", "publish", {})
    assert status == 200 and body["published"] and built == [1]  # once, for Try, Publish and serving alike
    assert chat(client, PRICE_QUESTION)["type"] == "answer"
    assert app.extensions["faqbot.corpus"].version == 2 and app.extensions["faqbot.corpus"].answers == 1
