"""The staff API in the OpenAPI document: behind the bearer token, its real answers documented, fuzzed with the token.

FAQBOT_STAFF_FUZZ_EXAMPLES sets the examples per operation (default 25, derandomized); a 1,000-example
run is 44 per operation over the 23 operations (the six of the log and evaluation, the 17 of the knowledge):
FAQBOT_STAFF_FUZZ_EXAMPLES=44 python -m pytest -q -p no:cacheprovider tests/test_openapi_staff.py -k fuzzed
"""
import io
import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from jsonschema import Draft202012Validator
from schemathesis.checks import CHECKS, load_all_checks
from staff_fixtures import BEARER, CORPUS, TOKEN, corpus_dir, make_app  # noqa: F401
from test_openapi import conforms

from faqbot.knowledge import editing
from faqbot.knowledge.content import MAX_ANSWER, MAX_LINK, MAX_PASSAGE, MAX_QUESTION, MAX_QUESTIONS, from_json
from faqbot.webapp.staff_limits import MAX_SETS

EXAMPLES = int(os.environ.get("FAQBOT_STAFF_FUZZ_EXAMPLES", "25"))
EVAL_FILE = CORPUS.parent / "eval" / "questions.json"  # the shipped cases, which gate publishing
PASSAGE = "what-is-remedial-massage#1"  # it answers "What is remedial massage?"
ANSWER = {"questions": ["Do you have parking?", "Where do I park?"], "answer": "Free parking behind the clinic.",
          "link": "https://clinic.example/parking"}
CASES = {"cases": [{"q": "Is remedial massage good for posture?", "kind": "answer", "expect": ["posture"]}]}
load_all_checks()
ALL_CHECKS = [check for check in CHECKS.get_all() if not isinstance(check, type)]  # `--checks all`


@pytest.fixture
def staff_app(tmp_path, corpus_dir):
    """A console on its own database and its own copy of the corpus: a reindex or a purge touches only these."""
    app = make_app(tmp_path, CORPUS_DIR=str(corpus_dir), EVAL_FILE=str(EVAL_FILE))
    yield app
    app.extensions["faqbot.store"].close()


@pytest.fixture
def spec(staff_app):
    return staff_app.test_client().get("/api/openapi.json").get_json()


def test_staff_operations_need_the_bearer_token_and_public_ones_none(spec):
    assert spec["components"]["securitySchemes"]["bearer"] == {**spec["components"]["securitySchemes"]["bearer"],
                                                                "type": "http", "scheme": "bearer"}
    assert "security" not in spec
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            staff = path.startswith("/api/staff/")
            assert (operation.get("security") == [{"bearer": []}]) == staff, (method, path)
            assert ("staff" in operation.get("tags", [])) == staff
            if staff:
                assert {"401", "404", "429"} <= set(operation["responses"]), (method, path)


# --- fuzzing: schemathesis with the staff token, all checks --------------------------------------

@pytest.fixture
def staff_schema(staff_app):
    # The token as schemathesis's own auth, so the checks that leave it out (ignored_auth) know it was there.
    config = schemathesis.Config.from_dict({"auth": {"openapi": {"bearer": {"bearer": TOKEN}}}})
    return schemathesis.openapi.from_wsgi("/api/openapi.json", staff_app, config=config)


fuzzed = schemathesis.pytest.from_fixture("staff_schema").include(tag="staff")


@fuzzed.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_fuzzed_staff_requests_get_documented_answers(case):
    case.call_and_validate(checks=ALL_CHECKS)


# --- real answers conform: each status the document lists for the staff API ----------------------

def call(app, method, path, token=TOKEN, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return app.test_client().open(path, method=method, headers=headers, **kwargs)


def template(spec, path):
    """The document's path for a real one: /api/staff/answers/x is /api/staff/answers/{answer_id}."""
    return next(t for t in spec["paths"] if re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", t), path))


def answers(spec, app, method, path, **kwargs):
    """Call the API and check the answer is one the document promises; return its JSON."""
    response = call(app, method, path, **kwargs)
    conforms(spec, response, template(spec, path), method)
    return response.status_code, response.get_json()


@pytest.mark.parametrize("method, path, kwargs", [
    ("post", "/api/staff/explain", {"json": {"message": "what is remedial massage?", "previous": ["hi"]}}),
    ("post", "/api/staff/explain", {"json": {"message": "I have crushing chest pain"}}),
    ("post", "/api/staff/eval", {}),
    ("post", "/api/staff/eval", {"json": {"cases": [{"q": "What is petrissage?", "kind": "answer",
                                                      "expect": ["no such phrase"]}]}}),
    ("post", "/api/staff/eval", {"data": {"file": (io.BytesIO(b'[{"q": "hi", "kind": "smalltalk"}]'), "e.json")}}),
    ("get", "/api/staff/log", {"query_string": {"days": "7"}}),
    ("get", "/api/staff/export.csv", {}),
    ("get", "/api/staff/corpus", {}),
    ("post", "/api/staff/reindex", {}),
    ("post", "/api/staff/explain", {"json": {"message": ""}}),                      # 400
    ("post", "/api/staff/explain", {"data": b"hi", "content_type": "text/plain"}),  # 415
    ("post", "/api/staff/explain", {"data": b'{"message": "' + b"a" * 20000 + b'"}',
                                    "content_type": "application/json"}),           # 413
    ("post", "/api/staff/eval", {"data": b"[]", "content_type": "text/plain"}),     # 415
    ("post", "/api/staff/eval", {"json": {"cases": []}}),                           # 400
    ("get", "/api/staff/log", {"query_string": {"days": "a week"}}),                # 400
    ("get", "/api/staff/knowledge", {}),
    ("get", "/api/staff/passages", {}),
    ("get", "/api/staff/passages", {"query_string": {"doc_id": "what-is-remedial-massage"}}),
    ("post", "/api/staff/answers", {"json": ANSWER}),                                                 # 201
    ("put", "/api/staff/answers/no-such-answer", {"json": ANSWER}),                                   # 404
    ("delete", "/api/staff/answers/no-such-answer", {}),                                              # 404
    ("post", "/api/staff/questions", {"json": {"passage": PASSAGE, "question": "is it a deep massage"}}),  # 201
    ("post", "/api/staff/questions", {"json": {"passage": "nope#1", "question": "hi"}}),              # 404
    ("post", "/api/staff/questions/remove", {"json": {"passage": PASSAGE,
                                                      "question": "What is remedial massage therapy?"}}),
    ("post", "/api/staff/questions/remove", {"json": {"passage": PASSAGE, "question": "never asked"}}),  # 404
    ("put", "/api/staff/passages", {"json": {"passage": PASSAGE, "text": "Remedial massage treats injuries."}}),
    ("put", "/api/staff/passages", {"json": {"passage": PASSAGE, "text": None}}),
    ("post", "/api/staff/draft/discard", {}),
    ("post", "/api/staff/try", {"json": {"message": "what is remedial massage?", "previous": ["hi"]}}),
    ("get", "/api/staff/proposals", {"query_string": {"message": "can it fix my hunched shoulders"}}),
    ("post", "/api/staff/publish", {}),                                             # nothing to publish
    ("post", "/api/staff/rollback", {"json": {"version": 1, "author": "Robyn"}}),
    ("get", "/api/staff/versions", {}),
    ("get", "/api/staff/eval-sets", {}),
    ("put", "/api/staff/eval-sets/posture", {"json": CASES}),                                         # 201
    ("delete", "/api/staff/eval-sets/posture", {}),                                                   # 404
    ("post", "/api/staff/answers", {"json": {**ANSWER, "questions": []}}),                            # 400
    ("post", "/api/staff/answers", {"json": {**ANSWER, "author": ""}}),                               # 400
    ("post", "/api/staff/answers", {"data": b"hi", "content_type": "text/plain"}),                   # 415
    ("post", "/api/staff/answers", {"data": b'{"answer": "' + b"a" * 20000 + b'"}',
                                    "content_type": "application/json"}),                             # 413
    ("put", "/api/staff/passages", {"json": {"passage": PASSAGE, "text": "a" * (MAX_PASSAGE + 1)}}),  # 400
    ("post", "/api/staff/try", {"json": {"message": " "}}),                                           # 400
    ("get", "/api/staff/proposals", {}),                                                              # 400
    ("post", "/api/staff/publish", {"json": {"confirm": "yes"}}),                                     # 400
    ("post", "/api/staff/publish", {"data": b"confirm", "content_type": "text/plain"}),              # 415
    ("post", "/api/staff/rollback", {"json": {"version": 42}}),                                       # 404
    ("post", "/api/staff/rollback", {"json": {"version": "1"}}),                                      # 400
    ("put", "/api/staff/eval-sets/not!a-name", {"json": CASES}),                                      # 400
    ("put", "/api/staff/eval-sets/posture", {"json": {"cases": [{"q": 1}]}}),                         # 400
    ("put", "/api/staff/eval-sets/posture", {"data": b"[" + b"1," * 600000 + b"1]",
                                             "content_type": "application/json"}),                    # 413
])
def test_staff_answers_conform(staff_app, spec, method, path, kwargs):
    staff_app.test_client().post("/api/chat", json={"message": "who won the football"})
    conforms(spec, call(staff_app, method, path, **kwargs), template(spec, path), method)


def test_knowledge_edits_conform(staff_app, spec):
    """A clinic answer written, rewritten, questioned and deleted; a regressing draft refused (409), then
    published when confirmed, and rolled back; a clinic evaluation set stored and deleted."""
    status, written = answers(spec, staff_app, "post", "/api/staff/answers", json=ANSWER)
    assert status == 201
    clinic = f"clinic#{written['id']}"
    edited = {**ANSWER, "answer": "Parking is free behind the clinic.", "link": None, "author": "Robyn"}
    assert answers(spec, staff_app, "put", f"/api/staff/answers/{written['id']}", json=edited)[0] == 200
    question = {"passage": clinic, "question": "is there a car park"}
    assert answers(spec, staff_app, "post", "/api/staff/questions", json=question)[0] == 201
    assert answers(spec, staff_app, "post", "/api/staff/questions/remove", json=question)[0] == 200
    assert answers(spec, staff_app, "post", "/api/staff/questions/remove",
                   json={"passage": clinic, "question": ANSWER["questions"][0]})[0] == 200
    last = {"passage": clinic, "question": ANSWER["questions"][1]}  # its last question can't go
    assert answers(spec, staff_app, "post", "/api/staff/questions/remove", json=last)[0] == 400
    assert answers(spec, staff_app, "delete", f"/api/staff/answers/{written['id']}")[0] == 200

    chat = staff_app.test_client().post("/api/chat", json={"message": "What is remedial massage?"}).get_json()
    unrelated = {"passage": chat["passages"][0]["id"], "text": "Our opening hours are on the website."}
    assert answers(spec, staff_app, "put", "/api/staff/passages", json=unrelated)[0] == 200
    assert answers(spec, staff_app, "post", "/api/staff/try", json={"message": "What is remedial massage?"})[0] == 200
    status, refused = answers(spec, staff_app, "post", "/api/staff/publish", json={})
    assert status == 409 and refused["error"]["code"] == "regression" and refused["evaluation"]["regressions"]
    status, published = answers(spec, staff_app, "post", "/api/staff/publish", json={"confirm": True})
    assert status == 200 and published["published"] and published["version"] == 2
    assert answers(spec, staff_app, "get", "/api/staff/versions")[1]["versions"][0]["version"] == 2
    assert answers(spec, staff_app, "get", "/api/staff/knowledge")[1]["draft"]["base"] == 2
    assert answers(spec, staff_app, "post", "/api/staff/rollback", json={"version": 1})[1] == {"version": 3,
                                                                                               "restored": 1}
    assert answers(spec, staff_app, "put", "/api/staff/eval-sets/posture.v1", json=CASES["cases"])[0] == 201
    assert answers(spec, staff_app, "get", "/api/staff/eval-sets")[1] == {"sets": {"posture.v1": 1}}
    for n in range(MAX_SETS - 1):  # posture.v1 and these: as many as there may be
        assert answers(spec, staff_app, "put", f"/api/staff/eval-sets/set-{n}", json=CASES)[0] == 201
    assert answers(spec, staff_app, "put", "/api/staff/eval-sets/one-too-many", json=CASES)[0] == 409
    assert answers(spec, staff_app, "delete", "/api/staff/eval-sets/posture.v1")[1] == {"ok": True}


@pytest.mark.parametrize("path, method", [("/api/staff/log", "get"), ("/api/staff/reindex", "post"),
                                          ("/api/staff/knowledge", "get"), ("/api/staff/answers", "post"),
                                          ("/api/staff/answers/x", "delete"), ("/api/staff/publish", "post")])
def test_refusals_conform(staff_app, spec, tmp_path, path, method):
    documented = template(spec, path)
    conforms(spec, call(staff_app, method, path, token=None), documented, method)  # 401
    conforms(spec, call(staff_app, method, path, token="wrong-token-0123456789"), documented, method)
    off = make_app(tmp_path / "off", STAFF_TOKEN="")
    conforms(spec, call(off, method, path), documented, method)  # 404: the console is off


def test_locked_out_unavailable_and_refused_corpus_conform(tmp_path, corpus_dir, spec):
    app = make_app(tmp_path, CORPUS_DIR=str(corpus_dir), RATELIMIT_ENABLED=True, RATELIMIT_STAFF_AUTH="1/minute")
    call(app, "get", "/api/staff/corpus", token="wrong-token-0123456789")
    conforms(spec, call(app, "get", "/api/staff/corpus"), "/api/staff/corpus", "get")  # 429
    app = make_app(tmp_path / "b", CORPUS_DIR=str(corpus_dir))
    (corpus_dir / "broken.md").write_text("no front matter\n")
    conforms(spec, call(app, "post", "/api/staff/reindex"), "/api/staff/reindex", "post")  # 422

    def down(*args, **kwargs):
        from faqbot.storage.base import StoreUnavailable
        raise StoreUnavailable("the database is down")
    app.extensions["faqbot.store"].questions_since = down
    app.extensions["faqbot.store"].export = down
    for path in ("/api/staff/log", "/api/staff/export.csv"):
        conforms(spec, call(app, "get", path), path, "get")  # 503


def test_knowledge_unavailable_conforms(staff_app, spec):
    """The database down: the draft can't be read or saved, a clinic evaluation set can't be stored (503)."""
    from faqbot.storage.base import StoreUnavailable

    def down(*args, **kwargs):
        raise StoreUnavailable("the database is down")
    versions = staff_app.extensions["faqbot.reindexer"].versions
    versions.save_draft = down
    assert answers(spec, staff_app, "post", "/api/staff/answers", json=ANSWER)[0] == 503
    assert answers(spec, staff_app, "post", "/api/staff/draft/discard")[0] == 503
    staff_app.extensions["faqbot.store"].set_meta = lambda *args: False  # a write that failed
    assert answers(spec, staff_app, "put", "/api/staff/eval-sets/posture", json=CASES)[0] == 503
    versions.draft = versions.versions = down
    for path in ("/api/staff/knowledge", "/api/staff/versions", "/api/staff/passages"):
        assert answers(spec, staff_app, "get", path)[0] == 503


@pytest.mark.parametrize("field, value", [
    *(("answer", v) for v in ("x", " x ", "\x00", "\x00x", " \x7f\t", "", "a" * MAX_ANSWER, "a" * (MAX_ANSWER + 1),
                              "<b>x</b>", "\u3000", "\ufeff", 3, None)),
    *(("questions", v) for v in (["ok?"], [], ["\x00"], ["ok?"] * MAX_QUESTIONS, ["ok?"] * (MAX_QUESTIONS + 1),
                                 "ok?", "ok?\n\x00\n\n", "\n".join(["q"] * MAX_QUESTIONS),
                                 "\u2028".join(["q"] * (MAX_QUESTIONS + 1)), "q" * MAX_QUESTION,
                                 "q" * (MAX_QUESTION + 1), "\x1c", "", [3], {"q": 1})),
    *(("link", v) for v in (None, "", "   ", "https://clinic.example/p", " HTTP://x ", "/prices", "/",
                            "javascript:alert(1)", "http://", "/a b", "ftp://x", "/" + "a" * (MAX_LINK - 1),
                            "/" + "a" * MAX_LINK, "\u2003/x\u2003", 5)),
])
def test_spec_and_editing_agree_on_staff_text(spec, field, value):
    """What the document allows in a clinic answer is what editing.py accepts, and the other way round."""
    schema = spec["components"]["schemas"]["ClinicAnswerRequest"]["properties"][field]
    given = {"questions": ["ok?"], "answer": "x", "link": None, field: value}
    try:
        editing.add_answer(from_json({}), given["questions"], given["answer"], given["link"])
        accepted = True
    except editing.EditError:
        accepted = False
    assert Draft202012Validator(schema).is_valid(value) == accepted, (field, value, accepted)
