"""Staff access: a bearer token for the API, a login form and a signed cookie for the pages, CSRF."""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time

from flask import Flask, Response, abort, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from ..errors import error_response
from .ratelimits import client_key, seconds_until
from .security import API_CSP

log = logging.getLogger(__name__)

CSRF_FIELD = "csrf_token"
STAFF = ("staff.", "staff_knowledge.", "staff_api.")  # the console's and its API's endpoints
PAGES = ("staff", "staff_knowledge")  # the console's blueprints of HTML pages
# Strict by design: the console runs no inline script or style and is never framed.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def configured_token() -> str:
    """Return the staff token, or "" when the console is off."""
    return str(current_app.config.get("STAFF_TOKEN") or "").strip()


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


def token_matches(given: str) -> bool:
    """Compare in constant time; hashing first hides the token's length too."""
    expected = configured_token()
    return bool(expected) and hmac.compare_digest(_digest(given.strip()), _digest(expected))


def secret_key(token: str) -> str:
    """Derive a cookie-signing key from the token, the same in every worker, new when the token changes."""
    return hmac.new(token.encode("utf-8"), b"faqbot staff console session", hashlib.sha256).hexdigest()


def _token_tag() -> str:
    # Kept in the session: changing FAQBOT_STAFF_TOKEN logs every console user out.
    return hmac.new(configured_token().encode("utf-8"), b"faqbot staff login", hashlib.sha256).hexdigest()


def require_enabled() -> None:
    """Hide every staff route (404) while no token is configured."""
    if not configured_token():
        abort(404)


def bearer_failure() -> tuple[Response, int] | None:
    """Return a 401 response unless the request carries the staff token as a bearer token."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token_matches(given):
        return None
    response, status = error_response(
        401, "unauthorized", "Send the staff token (FAQBOT_STAFF_TOKEN) as 'Authorization: Bearer <token>'.")
    response.headers["WWW-Authenticate"] = 'Bearer realm="faqbot staff"'
    return response, status


def logged_in() -> bool:
    """Tell whether this browser's session holds a current staff login."""
    tag, at = session.get("staff"), session.get("at", 0)
    max_age = float(current_app.config["STAFF_SESSION_HOURS"]) * 3600
    return isinstance(tag, str) and hmac.compare_digest(tag, _token_tag()) and time.time() - at < max_age


def log_in(token: str) -> bool:
    """Start a staff session when the token is right (a fresh session: no fixation)."""
    if not token_matches(token):
        return False
    session.clear()
    session["staff"], session["at"] = _token_tag(), time.time()
    return True


def log_out() -> None:
    session.clear()


def csrf_token() -> str:
    """Return this session's CSRF token, creating it on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_ok() -> bool:
    """Tell whether a submitted form carries this session's CSRF token."""
    expected, given = session.get("csrf"), request.form.get(CSRF_FIELD, "")
    return isinstance(expected, str) and hmac.compare_digest(_digest(given), _digest(expected))


def protect(response: Response) -> Response:
    """Add the headers every staff response needs: no framing, strict CSP, no caching."""
    headers = response.headers
    headers["Content-Security-Policy"] = CSP if request.blueprint in PAGES else API_CSP  # JSON, CSV: load nothing
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    if request.endpoint != "staff.static":
        headers["Cache-Control"] = "no-store"  # visitor questions and traces stay off shared caches
    return response


def configure(app: Flask) -> None:
    """Give the app a signing key and a cookie scoped to the console."""
    token = str(app.config.get("STAFF_TOKEN") or "").strip()
    if token and not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(token)
    if token and len(token) < 16:
        log.warning("FAQBOT_STAFF_TOKEN is short; use a long random one (secrets.token_urlsafe(32))")
    # Only the console uses the session cookie: keep it off the widget's and API's requests.
    if app.config.get("SESSION_COOKIE_PATH") is None:
        app.config["SESSION_COOKIE_PATH"] = "/staff"
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.session_interface = HttpsAwareSessions()


def presents_token() -> bool:
    """Tell whether this request's token will be compared: a bearer header on the API, or the login form."""
    if request.blueprint == "staff_api":
        return "Authorization" in request.headers
    return request.endpoint == "staff.login" and request.method == "POST"


class Lockout:
    """Lock an address out of the console and API after repeated wrong tokens (401s).

    Only failures count, so staff at work are never limited; a guesser is, even if the token is weak.
    A request that presents a token first takes a place (an atomic increment in the limiter's
    storage, memory or Redis) and is refused when the failures so far plus the checks in flight
    exceed the limit, so parallel guesses cannot all pass before any of them is counted. (More
    checks at once from one address than the limit are told to retry in a second, right or wrong.)
    """

    PENDING = "staff-auth-pending"
    PENDING_EXPIRY = 300  # seconds: a place taken by a worker killed mid-request is not held longer

    def __init__(self, spec: str):
        self.items = parse_many(spec) if spec else []

    def limits(self):
        """Return the app's limiter for a staff request, or None when no lockout applies."""
        enabled = self.items and (request.endpoint or "").startswith(STAFF)
        return current_app.extensions.get("faqbot.limiter") if enabled else None

    def check(self) -> None:
        """Refuse a locked-out address; take a place for a token about to be compared."""
        limits = self.limits()
        if limits is None:
            return
        key, in_flight = client_key(), 1
        if presents_token():
            g.staff_place = f"{self.PENDING}/{key}"  # given back on teardown, whatever happens
            in_flight = limits.call("storage.incr", g.staff_place, self.PENDING_EXPIRY, fallback=True)
        for item in self.items:
            if not limits.call("test", item, "staff-auth", key, cost=max(1, in_flight), fallback=True):
                # Refused only for the checks in flight with it, not for failures: a moment's wait will do.
                failed = in_flight <= 1 or not limits.call("test", item, "staff-auth", key, fallback=True)
                window = limits.call("get_window_stats", item, "staff-auth", key, fallback=True)
                raise TooManyRequests(retry_after=seconds_until(window.reset_time) if failed else 1)

    def count(self, response: Response) -> Response:
        """Count a 401 as a failure (before the request's place is given back)."""
        limits = self.limits()
        if limits is not None and response.status_code == 401:
            for item in self.items:
                limits.call("hit", item, "staff-auth", client_key(), fallback=True)
        return response

    def give_back(self, exc: BaseException | None = None) -> None:
        """Give back the place this request took, if it took one."""
        place = g.pop("staff_place", None)
        if place is not None:
            current_app.extensions["faqbot.limiter"].call("storage.incr", place, self.PENDING_EXPIRY, -1,
                                                          fallback=True)


def init_lockout(app: Flask) -> None:
    """Count wrong staff tokens per address in the app's rate limiter (when limits are on)."""
    lockout = Lockout(str(app.config.get("RATELIMIT_STAFF_AUTH") or ""))
    app.before_request(lockout.check)
    app.after_request(lockout.count)
    app.teardown_request(lockout.give_back)


class HttpsAwareSessions(SecureCookieSessionInterface):
    """Mark the console's cookie Secure whenever the console is served over HTTPS.

    A fixed SESSION_COOKIE_SECURE=True would break logging in over plain http on localhost; behind
    a TLS-terminating proxy, set FAQBOT_TRUSTED_PROXIES so X-Forwarded-Proto says https.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure
