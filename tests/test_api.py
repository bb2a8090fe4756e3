import json

import pytest

from faqbot import create_app
from faqbot.config import from_env


def test_chat_contract(chat):
    body = chat("what is remedial massage?")
    for key in ("session_id", "reply_id", "type", "answer", "passages", "disclaimer", "suggestions", "contact"):
        assert key in body
    assert body["type"] == "answer" and body["disclaimer"]
    passage = body["passages"][0]
    assert {"id", "text", "source", "score"} <= set(passage)
    assert {"id", "title", "heading"} <= set(passage["source"])
    assert isinstance(passage["score"], float)
    assert 2 <= len(body["suggestions"]) <= 3


@pytest.mark.parametrize("message, kind", [
    ("How much does it cost?", "fallback"),
    ("my chest feels tight and I can't breathe", "urgent"),
    ("thanks!", "smalltalk"),
])
def test_types_other_than_answer_have_no_passages(chat, message, kind):
    body = chat(message)
    assert body["type"] == kind and body["passages"] == []
    assert body["disclaimer"]


def test_server_issues_a_session_and_keeps_it(chat):
    first = chat("Does it help with posture?")
    sid = first["session_id"]
    assert len(sid) >= 16
    second = chat("how many sessions would that take?", sid)
    assert second["session_id"] == sid
    assert "number of sessions" in second["passages"][0]["text"]


def test_follow_up_in_another_session_has_no_context(chat):
    chat("Does it help with posture?")
    other = chat("how many sessions would that take?", "a-brand-new-session")
    assert other["session_id"] == "a-brand-new-session"


def test_unknown_fields_are_ignored(client):
    response = client.post("/api/chat", json={"message": "hello", "colour": "blue", "n": [1, 2]})
    assert response.status_code == 200


def test_sessions_expire_and_are_bounded(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "d.sqlite3"), "SESSION_TTL": 0,
                      "SESSION_TURNS": 2})
    store = app.extensions["faqbot.store"]
    client = app.test_client()
    sid = client.post("/api/chat", json={"message": "Does it help with posture?"}).get_json()["session_id"]
    assert store.history(sid) == []  # expired at once with a TTL of 0
    store.session_ttl = 3600
    for message in ("one question", "two questions", "three questions"):
        client.post("/api/chat", json={"message": message, "session_id": sid})
    assert [t.message for t in store.history(sid)] == ["two questions", "three questions"]
    store.session_ttl = -1
    store.purge()
    conn = store.connect()
    assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0


def test_feedback_is_stored(client, app):
    reply = client.post("/api/chat", json={"message": "what is petrissage?"}).get_json()
    response = client.post("/api/feedback", json={"session_id": reply["session_id"], "reply_id": reply["reply_id"],
                                                   "vote": "down", "comment": "too long"})
    assert response.status_code == 201 and response.get_json() == {"ok": True}
    rows = app.extensions["faqbot.store"].connect().execute("SELECT vote, comment FROM feedback").fetchall()
    assert rows == [("down", "too long")]


def test_changing_a_vote_replaces_it(client, app):
    reply = client.post("/api/chat", json={"message": "what is petrissage?"}).get_json()
    for vote in ("up", "down"):
        body = {"session_id": reply["session_id"], "reply_id": reply["reply_id"], "vote": vote}
        assert client.post("/api/feedback", json=body).status_code == 201
    rows = app.extensions["faqbot.store"].connect().execute("SELECT vote FROM feedback").fetchall()
    assert rows == [("down",)]


def test_feedback_on_unknown_reply_is_404(client):
    response = client.post("/api/feedback", json={"session_id": "abcdefgh", "reply_id": "ijklmnop", "vote": "up"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_reply"


def test_info_for_the_widget(client):
    body = client.get("/api/info").get_json()
    assert body["name"] and body["greeting"] and len(body["starters"]) >= 3 and body["disclaimer"]


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


def test_answers_survive_a_broken_database(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "d.sqlite3")})
    store = app.extensions["faqbot.store"]
    store.path = str(tmp_path / "missing-dir" / "x" / "d.sqlite3")
    (tmp_path / "missing-dir").write_text("a file where a folder should be")
    store.close()
    response = app.test_client().post("/api/chat", json={"message": "what is remedial massage?"})
    assert response.status_code == 200 and response.get_json()["type"] == "answer"


def test_urgent_replies_carry_call_buttons_and_others_none(chat):
    assert chat("what is remedial massage?")["actions"] == []
    assert chat("my chest feels tight and I can't breathe")["actions"] == [{"label": "Call 000", "tel": "000"}]
    crisis = chat("I want to kill myself")
    assert crisis["type"] == "urgent"
    assert crisis["actions"] == [{"label": "Call 000", "tel": "000"}, {"label": "Call Lifeline 13 11 14", "tel": "131114"}]


def test_emergency_numbers_and_their_call_buttons_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FAQBOT_EMERGENCY_NUMBER", "111")
    monkeypatch.setenv("FAQBOT_CRISIS_LINES", "1737 (free call or text), Lifeline 0800 543 354")
    client = create_app({"TESTING": True, "DATABASE": str(tmp_path / "d.sqlite3")}).test_client()
    body = client.post("/api/chat", json={"message": "I want to end my life"}).get_json()
    assert "call 111 now" in body["answer"] and "1737 (free call or text), Lifeline 0800 543 354" in body["answer"]
    assert body["actions"] == [{"label": "Call 111", "tel": "111"}, {"label": "Call 1737 (free call or text)", "tel": "1737"},
                               {"label": "Call Lifeline 0800 543 354", "tel": "0800543354"}]


def test_config_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FAQBOT_MAX_MESSAGE_LENGTH", "10")
    monkeypatch.setenv("FAQBOT_CLINIC_PHONE", "0400 000 000")
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "d.sqlite3")})
    client = app.test_client()
    assert client.post("/api/chat", json={"message": "x" * 11}).status_code == 400
    assert client.get("/api/info").get_json()["contact"]["phone"] == "0400 000 000"


@pytest.mark.parametrize("raw, expected", [("off", False), ("OFF", False), ("false", False), ("no", False),
                                           ("0", False), ("on", True), ("true", True), ("1", True), (" Yes ", True)])
def test_switches_read_the_words_people_write(raw, expected):
    # FAQBOT_SEMANTIC=off used to arrive as the truthy string "off" and left the model on.
    assert from_env({"FAQBOT_SEMANTIC": raw}) == {"SEMANTIC": expected}


def test_a_switch_that_is_neither_on_nor_off_is_refused():
    with pytest.raises(ValueError, match="FAQBOT_SEMANTIC"):
        from_env({"FAQBOT_SEMANTIC": "maybe"})


def test_cors_is_same_origin_by_default_and_configurable(tmp_path, client):
    response = client.options("/api/chat", headers={"Origin": "https://clinic.example",
                                                    "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in response.headers
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "c.sqlite3"),
                      "CORS_ORIGINS": "https://clinic.example, https://other.example"})
    response = app.test_client().options("/api/chat", headers={
        "Origin": "https://clinic.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://clinic.example"
    assert "Access-Control-Allow-Credentials" not in response.headers
    denied = app.test_client().post("/api/chat", json={"message": "hi"}, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in denied.headers


def test_a_refused_origin_is_logged_once_with_what_to_set(tmp_path, caplog):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "c.sqlite3"),
                      "CORS_ORIGINS": "https://clinic.example"})
    client = app.test_client()
    with caplog.at_level("WARNING", logger="faqbot.webapp.cors"):
        # allowed, the service's own origin, then another site twice
        for origin in ("https://clinic.example", "http://localhost", "https://other.example", "https://other.example"):
            client.post("/api/chat", json={"message": "hi"}, headers={"Origin": origin})
    lines = [r.getMessage() for r in caplog.records if r.name == "faqbot.webapp.cors"]
    assert len(lines) == 1 and "https://other.example" in lines[0] and "FAQBOT_CORS_ORIGINS" in lines[0]


def test_text_settings_stay_text_and_list_settings_stay_lists(monkeypatch, tmp_path):
    monkeypatch.setenv("FAQBOT_CLINIC_PHONE", "1300123456")
    monkeypatch.setenv("FAQBOT_STARTERS", "What is remedial massage?")
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "d.sqlite3")})
    info = app.test_client().get("/api/info").get_json()
    assert info["contact"]["phone"] == "1300123456"
    assert info["starters"] == ["What is remedial massage?"]


def test_nul_characters_are_dropped_not_stored(client):
    reply = client.post("/api/chat", json={"message": "what is\x00 remedial massage?"}).get_json()
    assert reply["type"] == "answer"
    feedback = {"session_id": reply["session_id"], "reply_id": reply["reply_id"], "vote": "up", "comment": "ok\x00"}
    assert client.post("/api/feedback", json=feedback).status_code == 201


def test_the_length_limit_counts_what_was_sent_nuls_included(client):
    # The document says at most 1,000 characters; a NUL is dropped, but it was sent.
    over = client.post("/api/chat", json={"message": "a" * 1000 + "\x00"})
    assert over.status_code == 400 and over.get_json()["error"]["code"] == "too_long"
    assert client.post("/api/chat", json={"message": "a" * 999 + "\x00"}).status_code == 200
