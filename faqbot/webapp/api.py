"""The public JSON API: chat, feedback and the widget's settings."""
from __future__ import annotations

import json
import re
import secrets
import sys

from flask import Blueprint, current_app, g, jsonify, request

from ..answering.conversation import Turn
from ..errors import ApiError
from ..answering.pipeline import reply_json

bp = Blueprint("api", __name__, url_prefix="/api")
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")  # used with fullmatch: "$" would let a final newline through
# What counts as blank is what str.strip() removes (plus NUL, which is dropped): the OpenAPI
# document's pattern is built from the same characters so the spec and the service agree.
WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
VOTES = ("up", "down")
MAX_COMMENT = 1000


def json_object() -> dict:
    """Return the request's JSON object or raise a 4xx a person can understand."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send JSON with the header Content-Type: application/json.")
    try:
        raw = request.get_data(cache=True)
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", "The request body is not valid UTF-8.") from None
    data = request.get_json(silent=True)
    if data is None:
        try:
            json.loads(raw)
        except ValueError as exc:  # say what is wrong when it is not the syntax
            if "integer string conversion" in str(exc):
                raise ApiError(400, "number_too_long", "A number in the request JSON has too many digits "
                               f"(at most {sys.get_int_max_str_digits()}).") from None
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.")
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_body", 'The request body must be a JSON object, like {"message": "..."}.')
    return data


def text_field(data: dict, name: str, limit: int, required: bool = True) -> str | None:
    """Validate a string field: present, a string, not blank, not too long."""
    value = data.get(name)
    if value is None:
        if required:
            raise ApiError(400, "missing_field", f"The field '{name}' is required.")
        return None
    if not isinstance(value, str):
        raise ApiError(400, "invalid_field", f"The field '{name}' must be a string.")
    if len(value) > limit:  # as sent, NULs included: the documented limit is on what the client sends
        raise ApiError(400, "too_long", f"The field '{name}' is too long (at most {limit} characters).")
    value = value.replace("\x00", "")  # a stray NUL means nothing, and PostgreSQL text can't hold one
    if not value.strip():
        raise ApiError(400, "empty_field", f"The field '{name}' must not be empty.")
    return value.strip()


def session_field(data: dict, required: bool) -> str | None:
    """Validate a session id: a short URL-safe token."""
    value = data.get("session_id")
    if value is None and not required:
        return None
    if not isinstance(value, str) or not SESSION_ID.fullmatch(value):
        raise ApiError(400, "invalid_session_id",
                       "The field 'session_id' must be a token of 8 to 64 letters, digits, '-' or '_'.")
    return value


@bp.post("/chat")
def chat():
    """Answer a visitor's message within their conversation."""
    data = json_object()
    limit = current_app.config["MAX_MESSAGE_LENGTH"]
    message = text_field(data, "message", limit)
    given = session_field(data, required=False)
    session_id = given or secrets.token_urlsafe(16)
    bot, questions = current_app.extensions["faqbot"], current_app.extensions["faqbot.log"]
    reply = bot.reply(message, questions.history(session_id) if given else [])  # a new session has no past
    g.answer_type = reply.type  # for the access log (faqbot/webapp/security.py)
    reply_id = secrets.token_urlsafe(9)
    questions.record(session_id, Turn(reply_id, message, reply.type, reply.weights, reply.top_passage, reply.vector), reply.confidence,
                     reply.top_passage)
    return jsonify({"session_id": session_id, "reply_id": reply_id, **reply_json(reply), "contact": contact()})


@bp.post("/feedback")
def feedback():
    """Record a visitor's thumbs up or down on one reply."""
    data = json_object()
    session_id = session_field(data, required=True)
    reply_id = data.get("reply_id")
    if not isinstance(reply_id, str) or not SESSION_ID.fullmatch(reply_id):
        raise ApiError(400, "invalid_reply_id", "The field 'reply_id' must be the reply_id of a chat reply.")
    vote = data.get("vote")
    if vote not in VOTES:
        raise ApiError(400, "invalid_vote", "The field 'vote' must be \"up\" or \"down\".")
    comment = text_field(data, "comment", MAX_COMMENT, required=False)
    stored = current_app.extensions["faqbot.store"].add_feedback(session_id, reply_id, vote, comment)
    if stored is False:
        raise ApiError(404, "unknown_reply", "No reply with that reply_id in that session.")
    if stored is None:
        raise ApiError(503, "unavailable", "Feedback can't be saved right now. Please try again later.")
    return jsonify({"ok": True}), 201


def contact() -> dict:
    """Return the clinic's contact details."""
    c = current_app.config
    return {"name": c["CLINIC_NAME"], "phone": c["CLINIC_PHONE"], "email": c["CLINIC_EMAIL"],
            "booking_url": c["CLINIC_BOOKING_URL"]}


@bp.get("/info")
def info():
    """Describe the bot for the widget: name, greeting, starter questions, disclaimer, contact."""
    c = current_app.config
    return jsonify({"name": c["CLINIC_NAME"], "greeting": c["GREETING"], "starters": list(c["STARTERS"]),
                    "disclaimer": c["DISCLAIMER"], "contact": contact()})
