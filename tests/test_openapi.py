"""The published OpenAPI document is valid, covers every public endpoint, and describes real responses."""
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from faqbot import create_app
from faqbot.webapp.openapi import build

@pytest.fixture
def spec(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def conforms(spec, response, path, method):
    """Assert a real response is one the document promises: status, headers and body."""
    operation = spec["paths"][path][method]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method.upper()} {path} answered an undocumented {status}"
    documented = operation["responses"][status]
    for name, header in documented.get("headers", {}).items():
        if "$ref" in header:
            header = spec["components"]["headers"][header["$ref"].rsplit("/", 1)[1]]
        if header.get("required"):
            assert name in response.headers, f"{name} missing from {status} of {path}"
            Draft202012Validator(header["schema"]).validate(response.headers[name])
    assert response.mimetype in documented["content"]
    schema = {**documented["content"][response.mimetype]["schema"], "components": spec["components"]}
    Draft202012Validator(schema).validate(response.get_json() if response.is_json else response.text)


def test_document_is_valid_openapi(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.")


def test_every_endpoint_under_api_is_documented_and_nothing_else(app, spec):
    """The document and the app's URL rules under /api/ (staff API included) name the same operations
    (a rule's <name> is the document's {name})."""
    served = {(re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", r.rule), m.lower()) for r in app.url_map.iter_rules()
              if r.rule.startswith("/api/") or r.rule in ("/healthz", "/readyz", "/metrics")
              for m in r.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert served == documented, f"undocumented: {served - documented}; not served: {documented - served}"
    assert any(path.startswith("/api/staff/") for path, _ in served)


def test_limits_in_the_document_follow_the_configuration(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "d.sqlite3"), "MAX_MESSAGE_LENGTH": 300})
    spec = app.test_client().get("/api/openapi.json").get_json()
    assert spec["components"]["schemas"]["ChatRequest"]["properties"]["message"]["maxLength"] == 300
    assert build(app.config) == spec
    client = app.test_client()
    assert client.post("/api/chat", json={"message": "back pain " + "x" * 290}).status_code == 200
    assert client.post("/api/chat", json={"message": "back pain " + "x" * 291}).status_code == 400


@pytest.mark.parametrize("message", [
    "What is remedial massage?", "hi", "I have crushing chest pain down my left arm", "I want to kill myself",
    "who won the football last night", "I'm pregnant, can I have a massage?",
])
def test_chat_replies_conform(client, spec, message):
    first = client.post("/api/chat", json={"message": message})
    conforms(spec, first, "/api/chat", "post")
    follow_up = client.post("/api/chat", json={"message": "how long does it take?",
                                               "session_id": first.get_json()["session_id"]})
    conforms(spec, follow_up, "/api/chat", "post")


def test_feedback_and_reads_conform(client, spec):
    reply = client.post("/api/chat", json={"message": "What is remedial massage?"}).get_json()
    vote = {"session_id": reply["session_id"], "reply_id": reply["reply_id"], "vote": "down", "comment": "too long"}
    conforms(spec, client.post("/api/feedback", json=vote), "/api/feedback", "post")
    conforms(spec, client.post("/api/feedback", json={**vote, "reply_id": "unknown-reply"}), "/api/feedback", "post")
    for path in ("/api/info", "/healthz", "/readyz", "/api/openapi.json"):
        conforms(spec, client.get(path), path, "get")


@pytest.mark.parametrize("path, kwargs", [
    ("/api/chat", {"json": {"message": ""}}),
    ("/api/chat", {"data": b"hi", "content_type": "text/plain"}),
    ("/api/chat", {"data": b'{"message": "' + b"a" * 20000 + b'"}', "content_type": "application/json"}),
    ("/api/feedback", {"json": {"vote": "sideways"}}),
])
def test_errors_conform(client, spec, path, kwargs):
    conforms(spec, client.post(path, **kwargs), path, "post")


def test_rate_limited_and_unavailable_responses_conform(tmp_path, spec):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "d.sqlite3"), "RATELIMIT_ENABLED": True,
                      "RATELIMIT_CHAT": "1/minute"})
    client = app.test_client()
    reply = client.post("/api/chat", json={"message": "hi"}).get_json()
    conforms(spec, client.post("/api/chat", json={"message": "hi"}), "/api/chat", "post")
    app.extensions["faqbot.store"].add_feedback = lambda *args: None  # the database is down
    vote = {"session_id": reply["session_id"], "reply_id": reply["reply_id"], "vote": "up"}
    conforms(spec, client.post("/api/feedback", json=vote), "/api/feedback", "post")
    app.extensions["faqbot"] = type("NoIndex", (), {"index": []})()
    conforms(spec, client.get("/readyz"), "/readyz", "get")


# --- fuzzing: schemathesis generates valid and invalid requests from the document ---------------

@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


# The public operations; the staff API is fuzzed with its token in tests/test_openapi_staff.py.
fuzzed = schemathesis.pytest.from_fixture("api_schema").exclude(tag="staff")


@fuzzed.parametrize()
@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_fuzzed_requests_get_documented_answers_and_no_5xx(case):
    case.call_and_validate()


@pytest.mark.parametrize("filler", [
    " ", "\t\n", "\x1c", "\x1f", "\x85", "\xa0", "\u2003", "\u3000",  # whitespace to Python, not all to ECMA \s
    "\ufeff", "\u200b", ".",                                         # not whitespace to Python
])
def test_spec_and_service_agree_on_blank_messages(client, spec, filler):
    """A message the document allows is one the service accepts, and the other way round."""
    schema = spec["components"]["schemas"]["ChatRequest"]["properties"]["message"]
    allowed = Draft202012Validator(schema).is_valid(filler * 2)
    status = client.post("/api/chat", json={"message": filler * 2}).status_code
    assert (status == 200) == allowed, (repr(filler), status, allowed)
    assert allowed == bool(filler.strip())


@pytest.mark.parametrize("field", ["session_id", "reply_id"])
def test_tokens_with_a_trailing_newline_are_refused(client, field):
    reply = client.post("/api/chat", json={"message": "hi"}).get_json()
    if field == "session_id":
        response = client.post("/api/chat", json={"message": "hi", "session_id": reply["session_id"] + "\n"})
    else:
        response = client.post("/api/feedback", json={"session_id": reply["session_id"], "vote": "up",
                                                      "reply_id": reply["reply_id"] + "\n"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == f"invalid_{field}"
