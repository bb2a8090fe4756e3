"""The staff API in the OpenAPI document: behind the bearer token, its real answers documented, fuzzed with the token.

FAQBOT_STAFF_FUZZ_EXAMPLES sets the examples per operation (default 25, derandomized); the issue's
1,000-example run is 170 per operation over the six operations:
FAQBOT_STAFF_FUZZ_EXAMPLES=170 python -m pytest -q -p no:cacheprovider tests/test_openapi_staff.py -k fuzzed
"""
import io
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from staff_fixtures import BEARER, TOKEN, corpus_dir, make_app  # noqa: F401
from test_openapi import conforms

EXAMPLES = int(os.environ.get("FAQBOT_STAFF_FUZZ_EXAMPLES", "25"))
load_all_checks()
ALL_CHECKS = [check for check in CHECKS.get_all() if not isinstance(check, type)]  # `--checks all`


@pytest.fixture
def staff_app(tmp_path, corpus_dir):
    """A console on its own database and its own copy of the corpus: a reindex or a purge touches only these."""
    app = make_app(tmp_path, CORPUS_DIR=str(corpus_dir))
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
])
def test_staff_answers_conform(staff_app, spec, method, path, kwargs):
    staff_app.test_client().post("/api/chat", json={"message": "who won the football"})
    conforms(spec, call(staff_app, method, path, **kwargs), path, method)


@pytest.mark.parametrize("path, method", [("/api/staff/log", "get"), ("/api/staff/reindex", "post")])
def test_refusals_conform(staff_app, spec, tmp_path, path, method):
    conforms(spec, call(staff_app, method, path, token=None), path, method)  # 401
    conforms(spec, call(staff_app, method, path, token="wrong-token-0123456789"), path, method)
    off = make_app(tmp_path / "off", STAFF_TOKEN="")
    conforms(spec, call(off, method, path), path, method)  # 404: the console is off


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
