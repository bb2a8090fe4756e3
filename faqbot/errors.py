"""One JSON error body for every error under /api/: {"error": {"code", "message"}}."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# Plain-language messages for the HTTP errors a client can cause without our code noticing.
MESSAGES = {
    400: ("bad_request", "The request could not be understood."),
    404: ("not_found", "There is no such endpoint. See the README for the API."),
    405: ("method_not_allowed", "This endpoint does not accept that HTTP method."),
    413: ("body_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send JSON with the header Content-Type: application/json."),
    429: ("rate_limited", "Too many requests. Please wait a moment and try again."),
    500: ("internal_error", "Something went wrong on our side. Please try again."),
}


class ApiError(Exception):
    """An error a handler raises to answer with the canonical body."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str | None = None, message: str | None = None):
    """Build the canonical JSON error response."""
    default_code, default_message = MESSAGES.get(status, ("error", "The request failed."))
    body = {"error": {"code": code or default_code, "message": message or default_message}}
    return jsonify(body), status


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def register(app: Flask) -> None:
    """Answer errors under /api/ with the canonical body; other paths keep Flask's pages."""

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not wants_json():
            return exc
        response, status = error_response(exc.code or 500)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        retry_after = exc.get_response().headers.get("Retry-After")  # 429 and 503 carry one
        if retry_after:
            response.headers["Retry-After"] = retry_after
        return response, status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        # Log the traceback for us; the client gets no internals.
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not wants_json():
            return "Internal Server Error", 500
        return error_response(500)
