"""The OpenAPI 3.1 document, served at /api/openapi.json: the public endpoints, and the staff API's (openapi_staff.py).

Built from the app's configuration so the length limits it states are the ones enforced;
tests/test_openapi.py validates real responses against it and fuzzes the app with it.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from . import openapi_staff
from .openapi_common import HEADERS, NOT_BLANK, TOKEN, closed, errors, json_body, ref, respond, strings

bp = Blueprint("openapi", __name__)

REPLY_TYPES = ["answer", "fallback", "urgent", "smalltalk"]


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
                                      "description": "rows dropped since start: spool full, or refused as bad data"}}),
                         "limits": {"enum": ["shared", "memory", "local", "off"],
                                    "description": '"local": the shared rate-limit store failed and this worker '
                                                   'counts alone meanwhile'}}),
        "Error": closed({"error": closed(strings("code", "message"))}),
        "Contact": contact,
        "Passage": passage,
    }
    schemas.update(openapi_staff.schemas(config, schemas))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{config['CLINIC_NAME']} FAQ bot",
            "version": "1.0.0",
            "description": (
                "Answers visitors' questions from the clinic's articles. Every error under /api/ has the body "
                '{"error": {"code", "message"}}. Every response carries X-Request-ID (the caller\'s own, '
                "when it is a plain token of up to 128 characters). /api/chat and /api/feedback are rate "
                "limited per client address. The staff API (/api/staff/*, tag `staff`) needs the staff token "
                "as a bearer token (security scheme `bearer`); the other operations need none."
            ),
        },
        "tags": [{"name": "staff", "description": "The staff console's JSON API: answer 404 while "
                                                  "FAQBOT_STAFF_TOKEN is unset, 401 without the token."}],
        "paths": {
            "/api/chat": {"post": {
                "operationId": "chat", "summary": "Answer a visitor's message within their conversation.",
                "requestBody": json_body("ChatRequest"),
                "responses": {"200": respond("The reply.", "ChatReply"), **errors(400, 413, 415, 429)}}},
            "/api/feedback": {"post": {
                "operationId": "feedback", "summary": "Record a thumbs up or down on one reply.",
                "requestBody": json_body("FeedbackRequest"),
                "responses": {"201": respond("Stored.", "FeedbackAck"), **errors(400, 404, 413, 415, 429, 503, say={
                    404: "No reply with that reply_id in that session.",
                    503: "Feedback can't be stored right now; try again later."})}}},
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
            "/metrics": {"get": {
                "operationId": "metrics", "summary": "This worker's state in Prometheus's text format (one worker "
                                                     "per scrape, labelled by pid).",
                "responses": {"200": {"description": "Gauges and counters: faqbot_up, faqbot_database_up, "
                                                     "faqbot_question_log_pending, faqbot_question_log_lost_total...",
                                      "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/readyz": {"get": {
                "operationId": "readyz", "summary": "Readiness: this instance can answer visitors (its index is loaded). "
                                                   "The database and question log are reported, not required.",
                "responses": {"200": respond("Ready.", "Ready"), "503": respond("Not ready.", "Ready")}}},
            **openapi_staff.paths(config),
        },
        "components": {
            "schemas": schemas,
            "headers": HEADERS,
            "securitySchemes": {"bearer": openapi_staff.SCHEME},
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
