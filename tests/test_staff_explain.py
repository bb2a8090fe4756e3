"""Try a question, see why: the trace staff get from the console, the API and the CLI."""
import json
import re
import sqlite3

import pytest
from staff_fixtures import Console, api, console, staff_app  # noqa: F401

from faqbot.cli import main
from faqbot.answering.understanding import fitted


def explain(api, message, **extra):
    response = api("POST", "explain", json={"message": message, **extra})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_reply_is_exactly_what_the_widget_gets(api):
    chat = api.client.post("/api/chat", json={"message": "Can remedial massage help with back pain?"}).get_json()
    body = explain(api, "Can remedial massage help with back pain?")
    reply = body["reply"]
    assert reply["reply_id"] is None and reply["session_id"] is None
    assert {k: v for k, v in reply.items() if k not in ("session_id", "reply_id")} == \
        {k: v for k, v in chat.items() if k not in ("session_id", "reply_id")}


def test_explaining_stores_nothing(api, staff_app):
    explain(api, "What is remedial massage?")
    db = sqlite3.connect(staff_app.config["DATABASE"])
    assert db.execute("SELECT COUNT(*) FROM questions").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0


def test_trace_shows_analysed_terms_with_synonyms_stems_and_spelling(api):
    trace = explain(api, "can remedial masage help my sore back, exactly?")["trace"]
    rows = {row["surface"]: row for row in trace["terms"]}
    assert rows["sore"]["term"] == "pain" and rows["sore"]["how"] == "synonym"
    assert rows["remedial"]["term"] == "remedi" and rows["remedial"]["how"] == "stem"
    assert rows["massage"]["corrected_from"] == "masage"
    assert trace["corrections"] == {"masage": "massage"}
    assert rows["exactly"]["status"].startswith("ignored") and "exactly" in trace["ignored"]
    assert {"remedi", "massag", "pain", "back"} <= set(trace["own_terms"])


def test_trace_shows_scores_contributions_confidence_and_decision(api):
    trace = explain(api, "Can remedial massage help with back pain?")["trace"]
    assert trace["decision"] == "answer" and trace["rule"] is None
    # The fitted answer gate decides (faqbot/data/fitted.json), from the features shown.
    assert trace["confidence"] >= trace["threshold"] == fitted()["gate"]["threshold"]
    assert set(trace["features"]) == set(fitted()["gate"]["features"])
    top = trace["hits"][0]
    assert top["score"] > 0 and {"id", "text", "source"} <= set(top)
    assert set(top["contributions"]) <= set(trace["weights"]) and all(v > 0 for v in top["contributions"].values())


def test_trace_shows_the_words_that_carry_the_question_and_their_cover(api, console):
    trace = explain(api, "should I drink water after a massage?")["trace"]
    cover = {w["word"]: w["covered"] for w in trace["carrying"]}
    assert cover == {"drink": "", "water": "", "massage": "by its words"}
    assert trace["coverage"] == "the top passage does not cover 'drink', 'water'"
    page = console.get("/staff/", query_string={"message": "should I drink water after a massage?"}).text
    assert "Words that carry the question" in page and "water: not covered" in page
    assert "The top passage does not cover" in page


@pytest.mark.parametrize("message, decision, rule", [
    ("I have crushing chest pain and can't breathe", "urgent", "urgent: "),
    ("thanks!", "smalltalk", "smalltalk: "),
    ("How much does a session cost?", "fallback", "clinic topic: "),
])
def test_trace_names_the_rule_that_decided(api, message, decision, rule):
    body = explain(api, message)
    assert body["trace"]["decision"] == decision == body["reply"]["type"]
    assert body["trace"]["rule"].startswith(rule)
    if decision == "urgent":
        assert body["trace"]["safety"] and body["trace"]["terms"] == []


def test_low_confidence_fallback_still_shows_what_came_closest(api):
    trace = explain(api, "how tall is the eiffel tower")["trace"]
    assert trace["decision"] == "fallback" and trace["rule"] is None
    assert trace["confidence"] < trace["threshold"]


def test_context_from_a_live_session(api):
    first = api.client.post("/api/chat", json={"message": "Does it help with posture?"}).get_json()
    trace = explain(api, "how many sessions would that take?", session_id=first["session_id"])["trace"]
    assert trace["follow_up"] is True
    assert trace["context"] == [{"message": "Does it help with posture?", "type": "answer"}]
    # The earlier turn's terms, borrowed (whole: "sessions" names only the service, so it asks about posture).
    assert trace["weights"].get("postur") == 1.0
    own = explain(api, "and what about my neck?", session_id=first["session_id"])["trace"]
    assert 0 < own["weights"]["postur"] < 1  # a topic of its own: the earlier one down-weighted
    alone = explain(api, "how many sessions would that take?")["trace"]
    assert alone["follow_up"] is False and alone["context"] == []


def test_context_from_earlier_messages(api):
    body = explain(api, "how many sessions would that take?", previous=["Does it help with posture?"])
    assert body["trace"]["follow_up"] and body["trace"]["context"][0]["message"] == "Does it help with posture?"
    assert "number of sessions" in body["reply"]["passages"][0]["text"]


@pytest.mark.parametrize("body, code", [
    ({}, "missing_field"),
    ({"message": ""}, "empty_field"),
    ({"message": "x" * 1001}, "too_long"),
    ({"message": "hi", "session_id": "bad id"}, "invalid_session_id"),
    ({"message": "hi", "previous": "not a list"}, "invalid_field"),
])
def test_explain_validates_like_chat(api, body, code):
    response = api("POST", "explain", json=body)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == code


def test_console_page_shows_reply_and_trace(console):
    page = console.get("/staff/", query_string={"message": "can massage help my sore back"}).text
    for text in ("What the visitor sees", "Why", "Analysed words", "synonym", "Top passages",
                 f"threshold {fitted()['gate']['threshold']:.2f}", "fitted answer gate", "contribution",
                 "General information from our articles"):
        assert text in page, text
    assert "<meter" in page


def test_console_page_shows_an_urgent_reply_s_call_buttons(console):
    page = console.get("/staff/", query_string={"message": "I want to kill myself"}).text
    assert "Call buttons" in page and "Call 000 (tel:000)" in page and "Call Lifeline 13 11 14 (tel:131114)" in page
    assert "Call buttons" not in console.get("/staff/", query_string={"message": "what is remedial massage"}).text


def test_console_page_escapes_what_it_echoes(console):
    page = console.get("/staff/", query_string={"message": "<img src=x onerror=alert(1)>"}).text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_console_page_reports_bad_input_without_a_traceback(console):
    response = console.get("/staff/", query_string={"message": "hi", "session_id": "no!"})
    assert response.status_code == 200 and "session_id" in response.text and "Traceback" not in response.text


def test_cli_explain_prints_the_same_trace(runner):
    result = runner.invoke(main, ["ask", "--json", "--explain", "can massage help my sore back"])
    assert result.exit_code == 0, result.output
    trace = json.loads(result.output)["trace"]
    assert trace["decision"] == "answer" and "pain" in trace["own_terms"] and trace["hits"][0]["contributions"]


def test_each_passage_score_is_taken_apart_so_the_numbers_add_up(api, staff_app):
    import numpy as np

    message = "will remedial massage help my sciatica?"
    trace = explain(api, message)["trace"]
    bot = staff_app.extensions["faqbot"]
    sims = bot.understanding.index.similarities(bot.understanding.meaning.query(message))
    rows = {p.id: i for i, p in enumerate(bot.index.passages)}
    assert len(trace["hits"]) == 3
    for hit in trace["hits"]:
        m = hit["makeup"]
        assert m["fused"] and m["weight"] == 0.5
        # The two parts add up to the score, exactly at the four decimals shown.
        assert round(m["bm25_part"] + m["meaning_part"], 4) == hit["score"]
        assert m["bm25_part"] == pytest.approx(0.5 * m["bm25"] / m["best_bm25"], abs=1e-4)
        # The meaning part is the weight times the similarity scaled 0..1 over the passages, as fuse() mixes it.
        scaled = (sims[rows[hit["id"]]] - sims.min()) / (sims.max() - sims.min())
        assert m["meaning_scaled"] == pytest.approx(scaled, abs=1e-3)
        # BM25 is the terms' contributions, lifted by a visitor-question match.
        assert m["terms"] == pytest.approx(sum(hit["contributions"].values()), abs=1e-3)
        assert m["bm25"] == pytest.approx(m["terms"] * (1 + m["variant_weight"] * m["variant"]), rel=1e-3)
    assert np.isclose(trace["hits"][0]["makeup"]["bm25_scaled"], 1.0)


def test_the_console_shows_what_each_score_is_made_of(console):
    page = console.get("/staff/", query_string={"message": "will remedial massage help my sciatica?"}).text
    assert "What the score is made of" in page
    sums = re.findall(r'BM25 <strong class="bm25-part">([\d.]+)</strong></span> \+ <span title="meaning part">'
                      r'meaning <strong class="meaning-part">([\d.]+)</strong></span> = <strong>([\d.]+)</strong>', page)
    assert len(sums) == 3
    for bm25, meaning, score in sums:
        assert round(float(bm25) + float(meaning), 4) == float(score)
    assert "visitor-question match" in page and "scaled similarity" in page


@pytest.mark.parametrize("previous", [0, False, "", {}, ["\x00"], [" "], [5], ["x" * 1001]])
def test_explain_refuses_a_previous_that_is_not_a_list_of_messages(api, previous):
    response = api("POST", "explain", json={"message": "hi", "previous": previous})  # 0, False, "", {} were taken as []
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_field"


def test_explain_takes_no_previous_as_null_or_empty(api):
    for previous in (None, []):
        assert api("POST", "explain", json={"message": "hi", "previous": previous}).status_code == 200
