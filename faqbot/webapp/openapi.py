"""The OpenAPI 3.1 document for the public endpoints, served at /api/openapi.json.

Built from the app's configuration so the length limits it states are the ones enforced;
tests/test_openapi.py validates real responses against it and fuzzes the app with it.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .api import WHITESPACE

bp = Blueprint("openapi", __name__)

TOKEN = r"^[A-Za-z0-9_-]{8,64}$"
# The API refuses text that is only whitespace as Python's str.strip() sees it, or NUL (dropped):
# ECMA's \s is a different set (it lacks U+001C-U+001F and U+0085, and has U+FEFF).
NOT_BLANK = "[^" + "".join(f"\\u{ord(c):04x}" for c in "\x00" + WHITESPACE) + "]"
REPLY_TYPES = ["answer", "fallback", "urgent", "smalltalk"]


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def strings(*names: str) -> dict:
    return {name: {"type": "string"} for name in names}


def closed(properties: dict, required: list[str] | None = None) -> dict:
    """Return an object schema that lists every property a response carries, and no others."""
    return {"type": "object", "properties": properties, "required": required or list(properties),
            "additionalProperties": False}


def respond(description: str, schema: str, *headers: str) -> dict:
    """Describe one JSON response; every response carries X-Request-ID."""
    return {
        "description": description,
        "headers": {h: {"$ref": f"#/components/headers/{h}"} for h in ("X-Request-ID", *headers)},
        "content": {"application/json": {"schema": ref(schema)}},
    }


def errors(*statuses: int) -> dict:
    """Describe the error responses an operation can give, all in the one error body."""
    meaning = {
        400: "Invalid input: the code says which field and why.",
        404: "No reply with that reply_id in that session.",
        413: "The request body is larger than the limit.",
        415: "The body is not sent as application/json.",
        429: "Too many requests from this address; wait Retry-After seconds.",
        503: "Feedback can't be stored right now; try again later.",
    }
    return {str(s): respond(meaning[s], "Error", *(("Retry-After",) if s == 429 else ())) for s in statuses}


def json_body(schema: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": ref(schema)}}}


def build(config) -> dict:
    """Return the OpenAPI document for an app's configuration."""
    message = {"type": "string", "minLength": 1, "maxLength": config["MAX_MESSAGE_LENGTH"], "pattern": NOT_BLANK}
    token = {"type": "string", "pattern": TOKEN}
    contact = closed(strings("name", "phone", "email", "booking_url"))
    passage = closed({
        "id": {"type": "string"}, "text": {"type": "string"}, "score": {"type": "number"},
        "source": closed({**strings("id", "title"), "heading": {"type": ["string", "null"]},
                          "url": {"type": "string", "minLength": 1, "pattern": r"^(https?://|/articles/)", "description": (
                              "Where to read the passage: the article's public address (its `url:` front matter), "
                              "else a path on this service, /articles/{id}, to resolve against the API's origin; "
                              "with #<heading anchor> when the passage has a heading.")}}),
    })
    schemas = {
        "ChatRequest": {"type": "object", "required": ["message"], "properties": {
            "message": message, "session_id": {**token, "type": ["string", "null"]}}},
        "ChatReply": closed({
            "session_id": token, "reply_id": token, "type": {"type": "string", "enum": REPLY_TYPES},
            **strings("answer", "disclaimer"), "passages": {"type": "array", "items": ref("Passage")},
            "suggestions": {"type": "array", "items": {"type": "string"}},
            "caution": {"type": ["string", "null"]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1}, "contact": ref("Contact"),
            "actions": {"type": "array", "items": ref("Action"), "description": (
                "Buttons to show with the reply: on urgent replies, one call per configured emergency "
                "number and crisis line (FAQBOT_EMERGENCY_NUMBER, FAQBOT_CRISIS_LINES); otherwise empty.")}}),
        "Action": closed({"label": {"type": "string", "minLength": 1, "description": "Button text, e.g. 'Call 000'."},
                          "tel": {"type": "string", "pattern": r"^\+?[0-9]{3,}$",
                                  "description": "The number to dial, digits only (a tel: link)."}}),
        "FeedbackRequest": {"type": "object", "required": ["session_id", "reply_id", "vote"], "properties": {
            "session_id": token, "reply_id": token, "vote": {"type": "string", "enum": ["up", "down"]},
            "comment": {"type": ["string", "null"], "minLength": 1, "maxLength": 1000, "pattern": NOT_BLANK}}},
        "FeedbackAck": closed({"ok": {"const": True}}),
        "Info": closed({**strings("name", "greeting", "disclaimer"),
                        "starters": {"type": "array", "items": {"type": "string"}}, "contact": ref("Contact")}),
        "Health": closed({"status": {"const": "ok"}, "passages": {"type": "integer", "minimum": 0}}),
        "Ready": closed({"status": {"enum": ["ready", "unavailable"]},
                         "checks": closed({"index": {"type": "boolean"}, "database": {"type": "boolean"}}),
                         "semantic": {"type": "string", "description": 'the meaning layer: "ok", "off" or '
                                                                       '"unavailable: <why>" (BM25 answers alone)'},
                         "question_log": closed({
                             "state": {"enum": ["ok", "spooling"], "description": '"spooling": the database is '
                                       "not taking writes; rows wait in this worker's memory"},
                             "pending": {"type": "integer", "minimum": 0},
                             "lost": {"type": "integer", "minimum": 0,
                                      "description": "rows dropped since start: spool full, or refused as bad data"}})}),
        "Error": closed({"error": closed(strings("code", "message"))}),
        "Contact": contact,
        "Passage": passage,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{config['CLINIC_NAME']} FAQ bot",
            "version": "1.0.0",
            "description": (
                "Answers visitors' questions from the clinic's articles. Every error under /api/ has the body "
                '{"error": {"code", "message"}}. Every response carries X-Request-ID (the caller\'s own, '
                "when it is a plain token of up to 128 characters). /api/chat and /api/feedback are rate "
                "limited per client address."
            ),
        },
        "paths": {
            "/api/chat": {"post": {
                "operationId": "chat", "summary": "Answer a visitor's message within their conversation.",
                "requestBody": json_body("ChatRequest"),
                "responses": {"200": respond("The reply.", "ChatReply"), **errors(400, 413, 415, 429)}}},
            "/api/feedback": {"post": {
                "operationId": "feedback", "summary": "Record a thumbs up or down on one reply.",
                "requestBody": json_body("FeedbackRequest"),
                "responses": {"201": respond("Stored.", "FeedbackAck"), **errors(400, 404, 413, 415, 429, 503)}}},
            "/api/info": {"get": {
                "operationId": "info", "summary": "Describe the bot for the widget.",
                "responses": {"200": respond("Name, greeting, starter questions, disclaimer, contact.", "Info")}}},
            "/api/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This document.",
                "responses": {"200": {"description": "The OpenAPI document.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/healthz": {"get": {
                "operationId": "healthz", "summary": "Liveness: the process answers.",
                "responses": {"200": respond("Alive.", "Health")}}},
            "/readyz": {"get": {
                "operationId": "readyz", "summary": "Readiness: this instance can answer visitors (its index is loaded). "
                                                   "The database and question log are reported, not required.",
                "responses": {"200": respond("Ready.", "Ready"), "503": respond("Not ready.", "Ready")}}},
        },
        "components": {
            "schemas": schemas,
            "headers": {
                "X-Request-ID": {"description": "The request's id, as logged.", "required": True,
                                 "schema": {"type": "string"}},
                "Retry-After": {"description": "Seconds until a request may succeed.", "required": True,
                                "schema": {"type": "string", "pattern": r"^[0-9]+$"}},
            },
        },
    }


@bp.get("/api/openapi.json")
def document():
    """Serve the OpenAPI document."""
    spec = current_app.extensions.get("faqbot.openapi")
    if spec is None:
        spec = current_app.extensions["faqbot.openapi"] = build(current_app.config)
    response = jsonify(spec)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
