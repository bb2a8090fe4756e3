"""Production hardening: proxy trust, rate limits (limits.py), JSON guards, security headers, request ids, access logs; /readyz and /metrics (health.py)."""
from __future__ import annotations

import logging
import re
import secrets
import time

from flask import Flask, current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from . import bodies, health, logs, openapi
from .ratelimits import init_limiter
from ..errors import ApiError

log = logging.getLogger(__name__)

# A caller's id is echoed and logged, so only a short, plain token is trusted; anything else is replaced.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Inline styles are allowed because the demo page (standing in for a clinic's site) has them;
# inline scripts are not: the demo's buttons open the widget through data-faqbot-open instead.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"
BODY_METHODS = ("POST", "PUT", "PATCH")
# Whole strings, so brackets inside them don't count. The closing quote is optional so an
# unterminated string ends the scan instead of being re-scanned from every quote (quadratic).
JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]')
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def init_app(app: Flask) -> None:
    """Wire every production concern into the app."""
    # Read public API bodies in full, against a deadline and the size limit, before Flask does.
    app.wsgi_app = bodies.BodyReader(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"], app.config["BODY_TIMEOUT"])
    trusted = int(app.config["TRUSTED_PROXIES"] or 0)
    if trusted > 0:
        # Only now is X-Forwarded-For believed: unconfigured, any visitor could pick their own address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted)
    # First in line, so the duration covers the other hooks and a refused request still has an id.
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)
    app.before_request(guard_json)
    init_limiter(app)
    # after_request hooks run last-registered first: at index 0 this one sees the final response.
    app.after_request_funcs.setdefault(None, []).insert(0, finish_request)
    if app.config["ACCESS_LOG"]:
        app.extensions["faqbot.access_log"] = logs.access_logger()
    app.add_url_rule("/readyz", "readyz", health.readyz)
    app.add_url_rule("/metrics", "metrics", health.metrics)
    app.register_blueprint(openapi.bp)


def start_request() -> None:
    """Stamp the request with its start time and id."""
    g.started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID.match(incoming) else secrets.token_hex(16)


def guard_json() -> None:
    """Refuse JSON the parser or the database would choke on (too deep, lone surrogates) with a 400."""
    failed = request.environ.get(bodies.ERROR_KEY)
    if failed:  # the body was too slow or too long (bodies.BodyReader)
        raise ApiError(*failed)
    if request.method not in BODY_METHODS or not request.path.startswith("/api/") or not request.is_json:
        return
    raw = request.get_data(cache=True)  # past MAX_CONTENT_LENGTH this raises the 413
    limit = current_app.config["MAX_JSON_DEPTH"]
    if raw.count(b"[") + raw.count(b"{") > limit and json_depth(raw) > limit:
        raise ApiError(400, "too_deep", f"The request JSON is nested too deeply (at most {limit} levels).")
    if SURROGATE_ESCAPE.search(raw) and has_lone_surrogate(request.get_json(silent=True)):
        raise ApiError(400, "invalid_json", "The request body has an invalid Unicode escape (a lone surrogate).")


def json_depth(raw: bytes) -> int:
    """Return how deeply arrays and objects nest in a JSON text."""
    depth = deepest = 0
    for match in JSON_TOKENS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def has_lone_surrogate(value) -> bool:
    """Tell whether any string in parsed JSON holds an unpaired surrogate (not encodable as UTF-8)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_lone_surrogate(v) for v in value)
    return False


def finish_request(response):
    """Add the security headers and the request id, then write the access log line."""
    headers, config = response.headers, current_app.config
    # One pass over the headers the view set; the ones below are only added where missing.
    present = {name.lower() for name in headers.keys()}
    path, method = request.path, request.method
    api = path.startswith("/api/")
    add = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer")]
    if "content-security-policy" not in present:
        if response.mimetype == "text/html":
            add += [("Content-Security-Policy", config["CONTENT_SECURITY_POLICY"] or DEFAULT_CSP),
                    ("X-Frame-Options", "SAMEORIGIN")]
        elif api:
            add.append(("Content-Security-Policy", API_CSP))
    if api and method in BODY_METHODS:
        add.append(("Cache-Control", "no-store"))  # replies are one visitor's conversation
    limit = g.get("rate_limit")
    if limit is not None:  # set by RateLimits.check on the limited endpoints
        item, window = limit
        add += [("X-RateLimit-Limit", str(item.amount)), ("X-RateLimit-Remaining", str(window.remaining)),
                ("X-RateLimit-Reset", str(int(window.reset_time + 1)))]
    if "access-control-allow-origin" in present:
        # A widget on another origin may only read these if told so: it shows the wait, support asks the id.
        add.append(("Access-Control-Expose-Headers", "Retry-After, X-Request-ID"))
    if config["HSTS_MAX_AGE"] and request.is_secure:
        add.append(("Strict-Transport-Security", f"max-age={int(config['HSTS_MAX_AGE'])}"))
    for name, value in add:
        if name.lower() not in present:
            headers.add(name, value)
    request_id = g.get("request_id") or secrets.token_hex(16)
    if "x-request-id" in present:
        headers["X-Request-ID"] = request_id
    else:
        headers.add("X-Request-ID", request_id)
    logger = current_app.extensions.get("faqbot.access_log")
    if logger is not None:
        logs.log_fields(logger, access_fields(response, request_id, path, method))
    return response


def access_fields(response, request_id: str, path: str, method: str) -> dict:
    """Describe a finished request for the access log: never a header, a query string or a body."""
    rule = request.url_rule
    started = g.get("started")
    fields = {
        "request_id": request_id,
        "method": method,
        "route": rule.rule if rule else None,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
        "answer_type": g.get("answer_type"),
    }
    if rule is None:
        fields["path"] = path[:200]  # unmatched paths are probes worth seeing; no query string
    if current_app.config["LOG_MESSAGES"] and request.endpoint == "api.chat":
        data = request.get_json(silent=True)
        message = data.get("message") if isinstance(data, dict) else None
        if isinstance(message, str):
            fields["message"] = message[: current_app.config["MAX_MESSAGE_LENGTH"]]
    return fields
