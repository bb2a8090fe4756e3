"""Staff access: a bearer token for the API, a login form and a signed cookie for the pages, CSRF."""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time

from flask import Flask, Response, abort, current_app, request, session
from flask.sessions import SecureCookieSessionInterface

from .errors import error_response
from .security import API_CSP  # JSON and CSV load nothing

log = logging.getLogger(__name__)

CSRF_FIELD = "csrf_token"
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
    headers["Content-Security-Policy"] = CSP if request.blueprint == "staff" else API_CSP
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


class HttpsAwareSessions(SecureCookieSessionInterface):
    """Mark the console's cookie Secure whenever the console is served over HTTPS.

    A fixed SESSION_COOKIE_SECURE=True would break logging in over plain http on localhost; behind
    a TLS-terminating proxy, set FAQBOT_TRUSTED_PROXIES so X-Forwarded-Proto says https.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure
