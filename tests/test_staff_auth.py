"""Who may use the staff console: off without a token, 401 with a wrong one, in with the right one."""
import itertools
import threading
import time

import pytest
from staff_fixtures import BEARER, CSRF, TOKEN, Console, api, console, make_app, staff_app  # noqa: F401

from faqbot.webapp import staff_auth
from faqbot.config import from_env

PAGES = ["/staff/", "/staff/login", "/staff/eval", "/staff/log", "/staff/corpus", "/staff/export.csv",
         "/staff/static/staff.css"]
API = [("POST", "explain"), ("POST", "eval"), ("GET", "log"), ("GET", "export.csv"), ("GET", "corpus"),
       ("POST", "reindex")]


def test_without_a_token_every_staff_route_is_off(client):
    for path in PAGES:
        assert client.get(path).status_code == 404, path
    for method, path in API:
        response = client.open(f"/api/staff/{path}", method=method, headers=BEARER, json={"message": "hi"})
        assert response.status_code == 404
        assert response.get_json() == {"error": {"code": "not_found", "message": response.get_json()["error"]["message"]}}


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "])
def test_api_refuses_a_missing_or_wrong_token(staff_app, header):
    client = staff_app.test_client()
    headers = {"Authorization": header} if header else {}
    for method, path in API:
        response = client.open(f"/api/staff/{path}", method=method, headers=headers, json={"message": "hi"})
        assert response.status_code == 401, path
        assert response.get_json()["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_accepts_the_right_token(api):
    assert api("GET", "corpus").status_code == 200
    assert api("POST", "explain", json={"message": "What is remedial massage?"}).status_code == 200


def test_pages_send_strangers_to_the_login_form(staff_app):
    client = staff_app.test_client()
    response = client.get("/staff/log?days=7")
    assert response.status_code == 302
    assert response.location == "/staff/login?next=/staff/log?days%3D7"
    assert client.post("/staff/reindex").status_code == 401  # a form post without a login does nothing


def test_wrong_token_shows_the_form_again_with_a_message(staff_app):
    client = staff_app.test_client()
    csrf = CSRF.search(client.get("/staff/login").text).group(1)
    response = client.post("/staff/login", data={"csrf_token": csrf, "token": "guess"})
    assert response.status_code == 401
    assert "That token is not right." in response.text and 'type="password"' in response.text
    assert "Traceback" not in response.text
    assert client.get("/staff/").status_code == 302


def test_right_token_logs_in_and_returns_to_the_page_asked_for(staff_app):
    client = staff_app.test_client()
    csrf = CSRF.search(client.get("/staff/login?next=/staff/log").text).group(1)
    response = client.post("/staff/login", data={"csrf_token": csrf, "token": TOKEN, "next": "/staff/log"})
    assert response.status_code == 303 and response.location == "/staff/log"
    for path in PAGES:
        with client.get(path) as response:
            assert response.status_code == 200, path


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/staff", "/api/chat", "/\\evil.example"])
def test_login_never_redirects_off_the_console(staff_app, target):
    client = staff_app.test_client()
    csrf = CSRF.search(client.get("/staff/login").text).group(1)
    response = client.post("/staff/login", data={"csrf_token": csrf, "token": TOKEN, "next": target})
    assert response.location == "/staff/"


def test_forms_need_the_csrf_token(staff_app):
    client = staff_app.test_client()
    client.get("/staff/login")
    assert client.post("/staff/login", data={"token": TOKEN}).status_code == 400
    console = Console(client)
    response = console.client.post("/staff/reindex", data={"csrf_token": "forged"})
    assert response.status_code == 303 and response.location == "/staff/reindex"
    assert console.post("/staff/reindex").status_code == 303  # with the token it runs


def test_logout_ends_the_session(console):
    assert console.post("/staff/logout").status_code == 303
    assert console.get("/staff/").status_code == 302


def test_a_login_expires_and_a_new_token_logs_everyone_out(tmp_path, monkeypatch):
    app = make_app(tmp_path, STAFF_SESSION_HOURS=1)
    console = Console(app.test_client())
    assert console.get("/staff/").status_code == 200
    later = time.time() + 3601
    monkeypatch.setattr("faqbot.webapp.staff_auth.time.time", lambda: later)
    assert console.get("/staff/").status_code == 302
    monkeypatch.undo()
    console = Console(app.test_client())
    app.config["STAFF_TOKEN"] = "another-long-staff-token-value"
    assert console.get("/staff/").status_code == 302


def test_staff_responses_cannot_be_framed_or_cached(console, api):
    for response in (console.get("/staff/"), console.get("/staff/login"), api("GET", "corpus")):
        assert response.headers["X-Frame-Options"] == "DENY"
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and ("default-src 'self'" in csp or "default-src 'none'" in csp)
        assert "unsafe-inline" not in csp
        assert response.headers["Cache-Control"] == "no-store"
    page = console.get("/staff/?message=hello").text
    assert "<script>" not in page and " style=" not in page and " on" + "click=" not in page


def test_session_cookie_is_signed_scoped_and_http_only(staff_app):
    client = staff_app.test_client()
    response = client.get("/staff/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Path=/staff" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on localhost must still log in
    assert staff_app.secret_key and staff_app.secret_key != TOKEN


def test_session_cookie_is_secure_over_https(tmp_path):
    direct = make_app(tmp_path).test_client()
    assert "Secure" in direct.get("/staff/login", base_url="https://clinic.example").headers["Set-Cookie"]
    behind = make_app(tmp_path, TRUSTED_PROXIES=1).test_client()  # TLS ends at the proxy
    response = behind.get("/staff/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"})
    assert "Secure" in response.headers["Set-Cookie"]


def test_secret_key_is_the_same_in_every_worker(tmp_path):
    first, second = make_app(tmp_path / "a"), make_app(tmp_path / "b")
    assert first.secret_key == second.secret_key
    console = Console(first.test_client())
    cookie = console.client.get_cookie("session", path="/staff")
    other = second.test_client()
    other.set_cookie("session", cookie.value, path="/staff")
    assert other.get("/staff/").status_code == 200


def test_secrets_from_the_environment_stay_text():
    assert from_env({"FAQBOT_STAFF_TOKEN": "123456", "FAQBOT_SECRET_KEY": "true"}) == {
        "STAFF_TOKEN": "123456", "SECRET_KEY": "true"}


# --- wrong tokens sent in parallel: no more verdicts than the lockout allows ----------------------

ADDRESSES = (f"198.18.{n // 250}.{n % 250 + 1}" for n in itertools.count())  # a Redis keeps counts between tests


@pytest.fixture(params=["memory", "redis"])
def lockout_app(request, tmp_path, monkeypatch):
    """A console whose lockout counts 3 wrong tokens a minute, and whose token checks take a while."""
    storage = request.getfixturevalue("redis_server").url if request.param == "redis" else "memory://"
    real_check = staff_auth.token_matches
    # Slow, as on a busy server: every request of a burst is past the lockout check before any is done.
    monkeypatch.setattr(staff_auth, "token_matches", lambda given: (time.sleep(0.2), real_check(given))[1])
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STAFF_AUTH="3/minute", RATELIMIT_STORAGE_URI=storage)
    yield app
    if request.param == "redis":  # its sockets, or pytest reports them unclosed
        app.extensions["faqbot.limiter"].limiter.limiter.storage.get_connection().connection_pool.disconnect()


def burst(app, address: str, n: int, prepare) -> list:
    """Send n requests at once from one address, each from its own client; prepare(client, i) returns the sender."""
    barrier, responses = threading.Barrier(n), []

    def run(i):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        send = prepare(client, i)
        barrier.wait()
        responses.append(send())
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return responses


def guess_by_api(client, i):
    return lambda: client.get("/api/staff/corpus", headers={"Authorization": f"Bearer guess-{i}"})


def guess_by_form(client, i):
    csrf = CSRF.search(client.get("/staff/login").text).group(1)
    return lambda: client.post("/staff/login", data={"csrf_token": csrf, "token": f"guess-{i}"})


@pytest.mark.parametrize("guess", [guess_by_api, guess_by_form])
def test_parallel_wrong_tokens_get_no_more_verdicts_than_the_limit(lockout_app, guess):
    address = next(ADDRESSES)
    statuses = [r.status_code for r in burst(lockout_app, address, 12, guess)]
    assert sorted(statuses) == [401] * 3 + [429] * 9  # not twelve 401s: each was counted before it was checked
    client = lockout_app.test_client()
    assert client.get("/api/staff/corpus", headers=BEARER, environ_base={"REMOTE_ADDR": address}).status_code == 429
    assert client.get("/api/staff/corpus", headers=BEARER,
                      environ_base={"REMOTE_ADDR": next(ADDRESSES)}).status_code == 200  # others are not locked out
    limits = lockout_app.extensions["faqbot.limiter"]
    assert int(limits.call("storage.get", f"{staff_auth.Lockout.PENDING}/{address}")) == 0  # every place given back


def test_parallel_right_tokens_never_lock_an_address_out(lockout_app):
    address = next(ADDRESSES)
    responses = burst(lockout_app, address, 8, lambda c, i: lambda: c.get("/api/staff/corpus", headers=BEARER))
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 429} and statuses.count(200) >= 3, statuses
    # More checks at once than the limit allows wait a moment; they are not failures.
    assert {r.headers["Retry-After"] for r in responses if r.status_code == 429} <= {"1"}
    client = lockout_app.test_client()
    assert client.get("/api/staff/corpus", headers=BEARER, environ_base={"REMOTE_ADDR": address}).status_code == 200
