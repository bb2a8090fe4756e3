"""Evaluation from the console: the shipped file, an upload or pasted JSON; bad files get clear errors."""
import io
import json

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart
from staff_fixtures import Console, api, console, staff_app  # noqa: F401

from faqbot.evaluation.runner import evaluate

CASES = {"cases": [
    {"q": "Tell me what remedial massage is", "kind": "answer", "expect": ["systematic", "targets deep layers"]},
    {"q": "What is petrissage?", "kind": "answer", "expect": ["no such phrase anywhere"]},
    {"turns": ["Does it help with posture?", "how many sessions would that take?"], "kind": "answer",
     "expect": ["number of sessions"]},
    {"q": "thanks!", "kind": "smalltalk"},
]}


def test_api_runs_the_shipped_file_with_the_cli_engine(api, bot):
    body = api("POST", "eval").get_json()
    expected = evaluate(bot, "eval/questions.json")
    assert body["source"] == "eval/questions.json" and body["cases"] == len(expected.results)
    assert body["hit@1"] == round(expected.hit1, 4) and body["mrr"] == round(expected.mrr, 4)
    assert body["by_kind"]["urgent"]["right"] == body["by_kind"]["urgent"]["total"]
    assert body["passed"] is True and body["misses"] == []


def test_api_runs_posted_cases_and_explains_each_failure(api):
    body = api("POST", "eval", json=CASES).get_json()
    assert body["cases"] == 4 and body["by_kind"]["answer"] == {"right": 2, "total": 3}
    assert body["hit@1"] == pytest.approx(2 / 3, abs=1e-4) and body["passed"] is False
    [failure] = body["failures"]
    assert failure["question"] == "What is petrissage?" and failure["expect"] == ["no such phrase anywhere"]
    assert failure["got"] == "answer" and failure["rank"] is None
    assert failure["trace"]["hits"] and failure["trace"]["terms"] and failure["reply"]["answer"]


def test_api_takes_an_uploaded_file_larger_than_a_chat_body(api):
    padded = {"cases": CASES["cases"] * 60}  # about 20 KB: over the 16 KB chat limit
    raw = json.dumps(padded, indent=2).encode()
    assert len(raw) > 16 * 1024
    response = api("POST", "eval", data={"file": (io.BytesIO(raw), "mine.json")})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["cases"] == 240


@pytest.mark.parametrize("raw, message", [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b'{"questions": []}', 'expected {"cases": [...]}'),
    (b'{"cases": []}', "no cases"),
    (json.dumps({"cases": [{"q": "hi", "kind": "maybe"}]}).encode(), "case 1: 'kind' must be one of"),
    (json.dumps({"cases": [{"kind": "fallback"}]}).encode(), "case 1: needs either 'q'"),
    (json.dumps({"cases": [{"q": "ok", "kind": "fallback"}, {"q": "x", "kind": "answer"}]}).encode(),
     "case 2: kind 'answer' needs 'expect'"),
    (json.dumps({"cases": [{"turns": [], "kind": "fallback"}]}).encode(), "'turns' must be a list"),
    (json.dumps({"cases": [{"q": "x" * 1001, "kind": "fallback"}]}).encode(), "longer than 1000"),
])
def test_api_refuses_a_bad_file_saying_what_is_wrong(api, raw, message):
    response = api("POST", "eval", data={"file": (io.BytesIO(raw), "bad.json")})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_eval_file" and message in error["message"]


def test_console_runs_the_shipped_file(console):
    page = console.post("/staff/eval", {"source": "shipped"}).text
    assert "33 cases from eval/questions.json" in page and "hit@1" in page and "Every case passed." in page


def test_console_shows_failing_cases_with_their_trace(console):
    response = console.post("/staff/eval", {"source": "paste", "pasted": json.dumps(CASES)})
    page = response.text
    assert response.status_code == 200
    assert "4 cases from your cases" in page and "What is petrissage?" in page
    assert "no such phrase anywhere" in page and "Top passages" in page and "Open in Try a question" in page


def test_console_takes_an_upload(console):
    data = {"source": "upload", "file": (io.BytesIO(json.dumps(CASES).encode()), "mine.json")}
    page = console.post("/staff/eval", data, content_type="multipart/form-data").text
    assert "4 cases from mine.json" in page


@pytest.mark.parametrize("data, message", [
    ({"source": "paste", "pasted": "{oops"}, "not valid JSON"),
    ({"source": "upload"}, "choose a file to upload"),
])
def test_console_explains_a_bad_file(console, data, message):
    response = console.post("/staff/eval", data)
    assert response.status_code == 400
    assert "t be used:" in response.text and message in response.text
    assert "{oops" in response.text or data["source"] == "upload"  # what was pasted is kept for fixing


def test_console_refuses_an_upload_over_the_limit(console):
    # Encoded in memory: the test client would spool a body this big to a file it never closes.
    huge = FileStorage(io.BytesIO(b" " * (1024 * 1024 + 10)), "huge.json")
    values = {"csrf_token": console.csrf, "source": "upload", "file": huge}
    boundary, body = encode_multipart(values)
    response = console.client.post("/staff/eval", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413 and "larger than 1024 KB" in response.text


@pytest.mark.parametrize("raw, message", [
    (b'{"cases": [' + b"1" * 5000 + b"]}", "not valid JSON: Exceeds the limit"),  # was a 500
    (b"[" * 100000, "not valid JSON: nested too deeply"),                        # was a 500
])
def test_api_refuses_json_the_parser_chokes_on(api, raw, message):
    response = api("POST", "eval", data={"file": (io.BytesIO(raw), "bad.json")})
    assert response.status_code == 400 and message in response.get_json()["error"]["message"]
    response = api("POST", "eval", data=b'{"cases": [' + b"1" * 5000 + b"]}", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("body", [b"", b"{}", b"{ }", b' {\n} '])
def test_api_runs_the_shipped_file_for_an_empty_body_or_object(api, body):
    response = api("POST", "eval", data=body, content_type="application/json")  # "{ }" was a 400
    assert response.status_code == 200 and response.get_json()["source"] == "eval/questions.json"


def test_api_takes_cases_only_as_json_or_an_upload(api):
    response = api("POST", "eval", data=json.dumps(CASES), content_type="text/plain")
    assert response.status_code == 415
    form = "multipart/form-data"
    response = api("POST", "eval", data={"other": "x"}, content_type=form)  # no file: not the shipped one
    assert response.status_code == 400 and "choose a file" in response.get_json()["error"]["message"]
    response = api("POST", "eval", data={"file": json.dumps(CASES)}, content_type=form)  # its text as a field
    assert response.status_code == 200 and response.get_json()["cases"] == 4


def test_a_stranger_s_large_body_gets_401_not_413(api):
    response = api.client.post("/api/staff/eval", data=json.dumps({"cases": CASES["cases"] * 60}),
                               content_type="application/json")
    assert response.status_code == 401  # was 413: the body was read before the token was checked
