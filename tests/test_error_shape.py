"""Every error under /api/ has one shape: {"error": {"code": str, "message": str}}."""
import pytest

from faqbot import create_app

LONG = "x" * 1001


def post(client, path, data=None, json_body=None, content_type="application/json"):
    if json_body is not None:
        return client.post(path, json=json_body)
    return client.post(path, data=data, content_type=content_type)


BAD_CHAT = [
    ("not json", dict(data=b"hello"), 400, "invalid_json"),
    ("wrong content type", dict(data=b'{"message": "hi"}', content_type="text/plain"), 415, "unsupported_media_type"),
    ("form post", dict(data=b"message=hi", content_type="application/x-www-form-urlencoded"), 415, None),
    ("not an object", dict(json_body=["message"]), 400, "invalid_body"),
    ("a string", dict(json_body="hello"), 400, "invalid_body"),
    ("missing message", dict(json_body={"text": "hi"}), 400, "missing_field"),
    ("null message", dict(json_body={"message": None}), 400, "missing_field"),
    ("number", dict(json_body={"message": 42}), 400, "invalid_field"),
    ("list", dict(json_body={"message": ["hi"]}), 400, "invalid_field"),
    ("empty", dict(json_body={"message": ""}), 400, "empty_field"),
    ("blank", dict(json_body={"message": "  \n\t "}), 400, "empty_field"),
    ("too long", dict(json_body={"message": LONG}), 400, "too_long"),
    ("session not a string", dict(json_body={"message": "hi", "session_id": 5}), 400, "invalid_session_id"),
    ("session too short", dict(json_body={"message": "hi", "session_id": "abc"}), 400, "invalid_session_id"),
    ("session with symbols", dict(json_body={"message": "hi", "session_id": "<script>alert(1)</script>"}), 400,
     "invalid_session_id"),
    ("session too long", dict(json_body={"message": "hi", "session_id": "a" * 65}), 400, "invalid_session_id"),
    ("invalid utf-8", dict(data=b'{"message": "caf\xe9"}'), 400, "invalid_json"),
    ("body too large", dict(data=b'{"message": "' + b"a" * 20000 + b'"}'), 413, "body_too_large"),
]

BAD_FEEDBACK = [
    ("no session", {"reply_id": "abcdefgh", "vote": "up"}, 400, "invalid_session_id"),
    ("no reply", {"session_id": "abcdefgh", "vote": "up"}, 400, "invalid_reply_id"),
    ("bad vote", {"session_id": "abcdefgh", "reply_id": "abcdefgh", "vote": "meh"}, 400, "invalid_vote"),
    ("long comment", {"session_id": "abcdefgh", "reply_id": "abcdefgh", "vote": "up", "comment": "c" * 1001}, 400,
     "too_long"),
]


def assert_error_shape(response, status, code=None):
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert isinstance(body["error"]["code"], str) and body["error"]["message"].strip()
    assert "Traceback" not in response.get_data(as_text=True)
    if code:
        assert body["error"]["code"] == code


@pytest.mark.parametrize("name, request_kwargs, status, code", BAD_CHAT, ids=[c[0] for c in BAD_CHAT])
def test_bad_chat_input(client, name, request_kwargs, status, code):
    assert_error_shape(post(client, "/api/chat", **request_kwargs), status, code)


@pytest.mark.parametrize("name, body, status, code", BAD_FEEDBACK, ids=[c[0] for c in BAD_FEEDBACK])
def test_bad_feedback_input(client, name, body, status, code):
    assert_error_shape(client.post("/api/feedback", json=body), status, code)


@pytest.mark.parametrize("method, path, status", [
    ("get", "/api/chat", 405), ("put", "/api/chat", 405), ("delete", "/api/feedback", 405),
    ("post", "/api/info", 405), ("get", "/api/nowhere", 404), ("post", "/api/", 404), ("get", "/api", 404),
])
def test_routing_errors(client, method, path, status):
    assert_error_shape(getattr(client, method)(path), status)


def test_unexpected_error_is_a_json_500_without_internals(tmp_path):
    app = create_app({"TESTING": False, "DATABASE": str(tmp_path / "d.sqlite3")})

    def explode(message, history=None):
        raise RuntimeError("secret internal detail /srv/faqbot")

    app.extensions["faqbot"].reply = explode
    response = app.test_client().post("/api/chat", json={"message": "hi there friend"})
    assert_error_shape(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True)


def test_non_api_paths_keep_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and not response.is_json
