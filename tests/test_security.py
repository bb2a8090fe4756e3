"""Production hardening: rate limits, proxies, hostile input, security headers, the staff lockout."""
import json
import re

import pytest
from test_error_shape import assert_error_shape

from faqbot import create_app
from faqbot.webapp import ratelimits, security
from faqbot.webapp.widget import web_dir

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def make_app(tmp_path, **config):
    return create_app({"TESTING": True, "DATABASE": str(tmp_path / "faqbot.sqlite3"), **config})


def chat(client, message="What is remedial massage?", **kwargs):
    return client.post("/api/chat", json={"message": message}, **kwargs)


# --- rate limits -------------------------------------------------------------------------------

def test_chat_is_limited_per_address_with_retry_after(tmp_path):
    client = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_CHAT="3/minute").test_client()
    assert [chat(client).status_code for _ in range(3)] == [200, 200, 200]
    limited = chat(client)
    assert_error_shape(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.headers["X-Request-ID"]
    other = chat(client, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200 and "Retry-After" not in other.headers


def test_feedback_has_its_own_limit(tmp_path):
    client = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_CHAT="1/minute",
                      RATELIMIT_FEEDBACK="2/minute").test_client()
    reply = chat(client).get_json()
    vote = {"session_id": reply["session_id"], "reply_id": reply["reply_id"], "vote": "up"}
    assert [client.post("/api/feedback", json=vote).status_code for _ in range(2)] == [201, 201]
    assert_error_shape(client.post("/api/feedback", json=vote), 429, "rate_limited")
    assert client.get("/api/info").status_code == 200  # reading the widget's settings is never limited


def test_limits_are_on_in_production_and_off_in_testing_apps(tmp_path):
    assert create_app({"DATABASE": str(tmp_path / "a.sqlite3")}).config["RATELIMIT_ENABLED"] is True
    client = make_app(tmp_path, RATELIMIT_CHAT="1/minute").test_client()
    assert [chat(client).status_code for _ in range(3)] == [200, 200, 200]
    assert "X-RateLimit-Limit" not in chat(client).headers


def test_limits_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FAQBOT_RATELIMIT_ENABLED", "true")
    monkeypatch.setenv("FAQBOT_RATELIMIT_CHAT", "2/minute;5/hour")
    client = make_app(tmp_path).test_client()
    assert [chat(client).status_code for _ in range(3)] == [200, 200, 429]


def test_limited_replies_say_how_many_requests_are_left(tmp_path):
    client = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_CHAT="3/minute;10/hour").test_client()
    first, second = chat(client), chat(client)
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("3", "2")
    assert second.headers["X-RateLimit-Remaining"] == "1"
    assert int(second.headers["X-RateLimit-Reset"]) > 0
    assert "X-RateLimit-Limit" not in client.get("/api/info").headers


def test_an_unreachable_limit_store_falls_back_to_memory(tmp_path, caplog):
    pytest.importorskip("redis")
    # Nothing listens on port 1: every call to the shared store fails at once.
    client = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_CHAT="2/minute",
                      RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0").test_client()
    assert [chat(client).status_code for _ in range(3)] == [200, 200, 429]  # still limited, per worker
    assert "counting in this worker" in caplog.text


def test_without_the_fallback_an_unreachable_limit_store_is_an_error(tmp_path):
    pytest.importorskip("redis")
    client = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",
                      RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=False).test_client()
    assert_error_shape(chat(client), 500, "internal_error")


def test_in_memory_limits_start_no_threads_and_sweep_expired_keys(tmp_path):
    import threading
    import time

    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_CHAT="1000/minute")
    limits = app.extensions["faqbot.limiter"]
    storage = limits.limiter.limiter.storage
    assert isinstance(storage, ratelimits.SweptMemoryStorage)
    hooks = [*app.before_request_funcs[None], *app.after_request_funcs[None], *app.teardown_request_funcs.get(None, [])]
    assert not any("flask_limiter" in repr(hook) for hook in hooks)  # its per-request machinery stays off
    client = app.test_client()
    chat(client)
    time.sleep(0.05)  # timers started while the app was built have finished
    before = threading.active_count()
    for _ in range(5):
        time.sleep(0.02)  # past the 10 ms after which limits' own MemoryStorage starts a sweeping thread
        chat(client)
    assert threading.active_count() == before
    storage.expirations = {key: 0.0 for key in storage.expirations}  # every window over
    storage.next_sweep = 0.0
    chat(client)
    assert len(storage.storage) == 1  # the old windows are gone, the new request's is counted


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(tmp_path):
    client = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_CHAT="1/minute").test_client()
    assert chat(client, headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 200
    assert chat(client, headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 429


def test_trusted_proxy_gives_each_client_its_own_limit(tmp_path):
    client = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_CHAT="1/minute", TRUSTED_PROXIES=1).test_client()
    assert chat(client, headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 200
    assert chat(client, headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 200
    # The proxy appends the address it saw; what the client wrote before it is not believed.
    spoofed = chat(client, headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.1"})
    assert spoofed.status_code == 429


@pytest.mark.parametrize("address, key", [
    ("192.0.2.1", "192.0.2.1"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.1", "192.0.2.1"),
    ("not-an-address", "not-an-address"),
])
def test_client_key_groups_an_ipv6_visitor_by_64(app, address, key):
    with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
        assert ratelimits.client_key() == key


# --- hostile input: always a 4xx in the error contract -----------------------------------------

DEEP = b"[" * 5000 + b"]" * 5000
HOSTILE = [
    ("deep array", DEEP, "application/json", 400, "too_deep"),
    ("deep value beside the message", b'{"message": "hi", "x": ' + b"[" * 30 + b"]" * 30 + b"}",
     "application/json", 400, "too_deep"),
    ("deep objects", b'{"a":' * 2000 + b"1" + b"}" * 2000, "application/json", 400, "too_deep"),
    ("lone surrogate in message", b'{"message": "\\ud800 back pain"}', "application/json", 400, "invalid_json"),
    ("lone surrogate in a key", b'{"message": "back pain", "\\udfff": 1}', "application/json", 400, "invalid_json"),
    ("invalid utf-8 start byte", b'{"message": "\xff\xfe"}', "application/json", 400, "invalid_json"),
    ("utf-8 encoded surrogate", b'{"message": "\xed\xa0\x80"}', "application/json", 400, "invalid_json"),
    ("utf-16 body", '{"message": "hi"}'.encode("utf-16"), "application/json", 400, "invalid_json"),
    ("truncated json", b'{"message": "back', "application/json", 400, "invalid_json"),
    ("empty body", b"", "application/json", 400, "invalid_json"),
    ("null body", b"null", "application/json", 400, "invalid_json"),
    ("number too long to parse", b'{"message": 1' + b"0" * 5000 + b"}", "application/json", 400, "number_too_long"),
    ("NaN message", b'{"message": NaN}', "application/json", 400, "invalid_field"),
    ("message over the length limit", json.dumps({"message": "\U0001f600" * 1001}).encode(), "application/json",
     400, "too_long"),
    ("body over the size limit", b'{"message": "' + b"a" * 17000 + b'"}', "application/json", 413, "body_too_large"),
    ("text/plain", b'{"message": "hi"}', "text/plain", 415, "unsupported_media_type"),
    ("multipart", b"--x\r\n\r\nhi\r\n--x--", "multipart/form-data; boundary=x", 415, "unsupported_media_type"),
    ("no content type", b'{"message": "hi"}', None, 415, "unsupported_media_type"),
    ("xml", b"<message>hi</message>", "application/xml", 415, "unsupported_media_type"),
]


@pytest.mark.parametrize("name, body, content_type, status, code", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_chat_input_is_a_4xx(client, name, body, content_type, status, code):
    response = client.post("/api/chat", data=body, content_type=content_type)
    assert_error_shape(response, status, code)
    text = response.get_data(as_text=True)
    assert not re.search(r"\.py\b|/work/|site-packages|Traceback|sqlite", text)


def test_hostile_feedback_input_is_a_4xx(client):
    reply = chat(client).get_json()
    comment = f'"session_id": "{reply["session_id"]}", "reply_id": "{reply["reply_id"]}", "vote": "up"'
    bad = ("{" + comment + ', "comment": "\\udc00"}').encode()
    assert_error_shape(client.post("/api/feedback", data=bad, content_type="application/json"), 400, "invalid_json")
    assert_error_shape(client.post("/api/feedback", data=DEEP, content_type="application/json"), 400, "too_deep")


def test_moderate_nesting_and_paired_surrogates_are_fine(client):
    body = b'{"message": "back pain \\ud83d\\ude00", "extra": ' + b"[" * 15 + b"]" * 15 + b"}"
    assert client.post("/api/chat", data=body, content_type="application/json").status_code == 200
    assert security.json_depth(b'{"a": "[[[[[[", "b": [[1]]}') == 3


# --- headers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [
    ("get", "/"), ("get", "/widget.js"), ("get", "/widget.css"), ("get", "/api/info"), ("get", "/healthz"),
    ("get", "/readyz"), ("get", "/api/openapi.json"), ("get", "/nowhere"), ("get", "/api/nowhere"),
    ("get", "/api/chat"), ("post", "/api/chat"),
])
def test_every_response_has_the_security_headers(client, method, path):
    response = getattr(client, method)(path)
    response.close()  # file responses hold their file open until closed
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert HEX_ID.match(response.headers["X-Request-ID"])
    if response.mimetype == "text/html":
        assert "frame-ancestors" in response.headers["Content-Security-Policy"]
    if path.startswith("/api/"):
        assert response.headers["Content-Security-Policy"] == security.API_CSP


def test_widget_script_stays_embeddable_on_other_origins(client):
    response = client.get("/widget.js")
    response.close()
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    for header in ("Content-Security-Policy", "X-Frame-Options", "Cross-Origin-Embedder-Policy"):
        assert header not in response.headers


def test_a_csp_already_set_is_kept(tmp_path):
    app = make_app(tmp_path)
    app.add_url_rule("/own", "own", lambda: ("<p>hi</p>", 200, {"Content-Security-Policy": "default-src 'none'"}))
    assert app.test_client().get("/own").headers["Content-Security-Policy"] == "default-src 'none'"


def test_demo_page_runs_under_the_default_csp():
    html = (web_dir() / "demo.html").read_text("utf-8")
    assert not re.search(r"\son\w+=", html), "an inline handler would be blocked by script-src 'self'"
    assert not re.search(r"<script(?![^>]*\ssrc=)", html), "an inline script would be blocked"
    assert "script-src 'self';" in security.DEFAULT_CSP


def test_csp_is_configurable(tmp_path):
    client = make_app(tmp_path, CONTENT_SECURITY_POLICY="default-src 'self'").test_client()
    with client.get("/") as response:
        assert response.headers["Content-Security-Policy"] == "default-src 'self'"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    secure = client.get("/healthz", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/healthz", headers={"X-Forwarded-Proto": "https"}).headers


def test_a_trusted_proxy_tells_https(tmp_path):
    client = make_app(tmp_path, TRUSTED_PROXIES=1).test_client()
    assert "Strict-Transport-Security" in client.get("/healthz", headers={"X-Forwarded-Proto": "https"}).headers


def test_replies_are_not_cached_and_cors_exposes_retry_after(tmp_path):
    client = make_app(tmp_path, CORS_ORIGINS="https://clinic.example").test_client()
    response = chat(client, headers={"Origin": "https://clinic.example"})
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Access-Control-Allow-Origin"] == "https://clinic.example"
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]


# --- staff console: wrong tokens lock an address out -------------------------------------------

def test_wrong_staff_tokens_lock_the_address_out(tmp_path):
    app = make_app(tmp_path, STAFF_TOKEN="right-token-0123456789", RATELIMIT_ENABLED=True,
                   RATELIMIT_STAFF_AUTH="3/minute")
    staff = [rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("staff_api.")
             and "GET" in rule.methods and "<" not in rule.rule]
    if not staff:
        pytest.skip("no staff API in this tree")
    client = app.test_client()
    wrong, right = {"Authorization": "Bearer guess"}, {"Authorization": "Bearer right-token-0123456789"}
    assert client.get(staff[0], headers=right).status_code == 200  # successes never count
    assert [client.get(staff[0], headers=wrong).status_code for _ in range(3)] == [401, 401, 401]
    locked = client.get(staff[0], headers=right)
    assert_error_shape(locked, 429, "rate_limited")
    assert int(locked.headers["Retry-After"]) > 0
    assert client.get(staff[0], headers=right, environ_base={"REMOTE_ADDR": "192.0.2.8"}).status_code == 200
    assert chat(client).status_code == 200  # visitors' chat from that address is not locked out
