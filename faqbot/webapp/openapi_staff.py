"""The staff API's part of the OpenAPI document: /api/staff/*, each operation behind the bearer token.

Built from the app's configuration like the public part (faqbot/webapp/openapi.py), so the limits it
states are the ones enforced; tests/test_openapi_staff.py fuzzes these operations with the token. The
knowledge operations (the draft, publishing, versions, evaluation sets) are in openapi_knowledge.py.
"""
from __future__ import annotations

from ..evaluation.explain import MAX_CASES
from ..evaluation.runner import KINDS, MAX_TURNS, NEEDS_EXPECT
from . import openapi_knowledge
from .openapi_common import (INTEGER, NOT_BLANK, NOT_SPACE, NULLABLE_STRING, TEXTS, TOKEN, closed, json_body,
                             operation, ref, respond, strings)
from .bodies import STAFF_UPLOAD_LIMIT as UPLOAD_LIMIT

SCHEME = {"type": "http", "scheme": "bearer",
          "description": "The staff token, FAQBOT_STAFF_TOKEN, as 'Authorization: Bearer <token>'."}
NUMBERS = {"type": "object", "additionalProperties": {"type": "number"}}


def days_parameter(retention: float) -> dict:
    return {"name": "days", "in": "query", "required": False, "description": (
        f"How many days back to read: 30 by default; below 1 counts as 1, above the retention period "
        f"(FAQBOT_LOG_RETENTION_DAYS, here {retention:g}) as the retention period. Not a number: 400."),
        "schema": {"type": "number", "default": 30}}


def paths(config) -> dict:
    retention = float(config["LOG_RETENTION_DAYS"])
    days = [days_parameter(retention)]
    csv = {"description": "The question log as CSV (a spreadsheet-safe download, UTF-8 with a byte-order mark).",
           "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"},
                       "Content-Disposition": {"required": True, "schema": {"type": "string",
                                                                            "pattern": "^attachment; filename="}}},
           "content": {"text/csv": {"schema": {"type": "string"}}}}
    upload = {"type": "object", "required": ["file"], "properties": {"file": {
        **ref("EvalFile"), "description": f"An evaluation file in the format of eval/questions.json (a file part "
                                          f"or a text field), at most {UPLOAD_LIMIT} bytes in all."}}}
    return {
        "/api/staff/explain": {"post": operation(
            "staff_explain", "Answer a message as /api/chat would, without storing it, and show why.",
            respond("The reply and its trace.", "Explanation"), 400, 413, 415,
            requestBody=json_body("ExplainRequest"))},
        "/api/staff/eval": {"post": operation(
            "staff_eval", "Score the shipped evaluation file, posted cases, or an uploaded file.",
            respond("The scores and each failing case with its trace.", "EvalReport"), 400, 413, 415,
            say={400: "The cases can't be used (invalid_eval_file): the message names each problem.",
                 415: "The body is neither application/json nor multipart/form-data."},
            requestBody={"required": False, "description": (
                "No body (or {}): the shipped file (FAQBOT_EVAL_FILE). A JSON body: the cases. A multipart "
                f"upload: the file. At most {MAX_CASES} cases."), "content": {
                "application/json": {"schema": ref("EvalRequest")},
                "multipart/form-data": {"schema": upload,
                                        "encoding": {"file": {"contentType": "application/json"}}}}})},
        "/api/staff/log": {"get": operation(
            "staff_log", "What visitors asked: unanswered and low-confidence questions grouped, thumbs-down, topics.",
            respond("The overview.", "LogOverview"), 400, 503, parameters=days)},
        "/api/staff/export.csv": {"get": operation(
            "staff_export", "Download the question log as CSV.", csv, 400, 503, parameters=days)},
        "/api/staff/corpus": {"get": operation(
            "staff_corpus", "Describe the corpus this worker is serving.",
            respond("The corpus version, or null before one is described.", "CorpusAnswer"))},
        "/api/staff/reindex": {"post": operation(
            "staff_reindex", "Validate the corpus and swap in a new index; a bad corpus changes nothing.",
            respond("Reindexed.", "Reindexed"), 422,
            say={422: "The corpus has problems (corpus_invalid), listed in the message; the old index keeps "
                      "serving."})},
        **openapi_knowledge.paths(config),
    }


def schemas(config, public: dict) -> dict:
    """Return the staff API's schemas; `public` holds the public ones they build on."""
    limit = config["MAX_MESSAGE_LENGTH"]
    message = {"type": "string", "minLength": 1, "maxLength": limit, "pattern": NOT_BLANK}
    phrase = {"type": "string", "pattern": NOT_SPACE}  # an evaluation file's text: not blank (NUL counts)
    question = {**phrase, "maxLength": limit}
    reply = public["ChatReply"]["properties"]
    bare_reply = closed({k: v for k, v in reply.items() if k not in ("session_id", "reply_id", "contact")})
    hit = {"type": "object", "required": ["id", "text", "score", "source", "contributions"], "properties": {
        **public["Passage"]["properties"], "contributions": NUMBERS,
        "makeup": {"type": "object", "additionalProperties": {"type": ["number", "boolean"]}}}}
    group = closed({"message": {"type": "string"}, "count": INTEGER, "last": {"type": "number"},
                    "confidence": {"type": "number"}, "closest": {"anyOf": [ref("Hit"), {"type": "null"}]},
                    "why": {"type": "string"},
                    "wordings": {"type": "array", "items": closed({"message": {"type": "string"}, "count": INTEGER})}})
    case = {"type": "object", "required": ["kind"], "properties": {
        "kind": {"enum": list(KINDS)}, "q": question,
        "turns": {"type": "array", "minItems": 1, "maxItems": MAX_TURNS, "items": question},
        "expect": {"description": f"Phrases the top passage must contain (kinds {', '.join(NEEDS_EXPECT)})."}},
        "oneOf": [{"required": ["q"]}, {"required": ["turns"]}],
        "if": {"properties": {"kind": {"enum": list(NEEDS_EXPECT)}}},
        "then": {"required": ["expect"], "properties": {"expect": {"type": "array", "minItems": 1, "items": phrase}}}}
    cases = {"type": "array", "minItems": 1, "maxItems": MAX_CASES, "items": ref("EvalCase")}
    document = {"type": "object", "required": ["hash", "built", "documents", "passages"], "properties": {
        "hash": {"type": "string"}, "built": {"type": "number"}, "passages": INTEGER,
        "documents": {"type": "array", "items": closed({**strings("id", "title", "file"),
                                                         "passages": INTEGER, "questions": INTEGER})}}}
    staff = {
        "ExplainRequest": {"type": "object", "required": ["message"], "properties": {
            "message": message, "session_id": {"type": ["string", "null"], "pattern": TOKEN, "description": (
                "A live conversation to take the context from (its turns are read, nothing is stored)")},
            "previous": {"type": ["array", "null"], "maxItems": MAX_TURNS, "items": message,
                         "description": "Earlier messages of the conversation, oldest first."}}},
        "Explanation": closed({"reply": closed({**reply, "session_id": {**NULLABLE_STRING, "pattern": TOKEN},
                                                "reply_id": {"type": "null"}}),
                               "trace": ref("Trace")}),
        "Trace": closed({
            "corrections": {"type": "object", "additionalProperties": {"type": "string"}},
            "ignored": TEXTS, "own_terms": TEXTS, "weights": NUMBERS, "follow_up": {"type": "boolean"},
            "safety": TEXTS, "rule": NULLABLE_STRING, "confidence": {"type": "number"},
            "threshold": {"type": "number"}, "decision": {"type": "string"},
            "hits": {"type": "array", "items": ref("Hit")}, "meaning": TEXTS, "features": NUMBERS,
            "carrying": {"type": "array", "description": "The words that carry the question and how the top passage "
                         "covers each ('by its words', or '' when it does not)",
                         "items": closed({"word": {"type": "string"}, "terms": TEXTS, "weight": {"type": "number"},
                                          "covered": {"type": "string"}})},
            "coverage": {"type": "string", "description": "What the top passage leaves uncovered ('': gate not reached)"},
            "lexical_share": {"type": "number", "description": "The share of the carrying words' weight in words the "
                              "articles use: BM25's part of the ranking is scaled by it"},
            "terms": {"type": "array", "items": closed({**strings("surface", "term", "how", "status"),
                                                        "corrected_from": NULLABLE_STRING})},
            "context": {"type": "array", "items": closed(strings("message", "type"))},
            "turn": {"anyOf": [{"type": "null"}, closed({
                **strings("kind"), "borrows": {"type": "boolean"}, "leans_on": NULLABLE_STRING,
                **{k: TEXTS for k in ("topic_words", "pointers", "given", "reasons")}})],
                "description": "How the turn relates to the conversation and why (null: the safety screen answered)"}}),
        "Hit": hit,
        "EvalCase": case,
        "EvalFile": {"anyOf": [{"type": "object", "required": ["cases"], "properties": {"cases": cases}}, cases]},
        "EvalRequest": {"anyOf": [ref("EvalFile"), {"type": "object", "maxProperties": 0,
                                                    "description": "{}: the shipped file"}]},
        "EvalReport": closed({
            "source": {"type": "string"}, "cases": INTEGER,
            **{k: {"type": ["number", "null"], "minimum": 0, "maximum": 1} for k in ("hit@1", "hit@3", "mrr")},
            "by_kind": {"type": "object", "additionalProperties": closed({"right": INTEGER, "total": INTEGER})},
            "passed": {"type": "boolean"}, "misses": TEXTS,
            "failures": {"type": "array", "items": closed({
                "question": {"type": "string"}, "turns": {"type": ["array", "null"], "items": {"type": "string"}},
                **strings("kind", "got", "why"), "expect": {}, "rank": {"type": ["integer", "null"]},
                "reply": bare_reply, "trace": ref("Trace")})}}),
        "LogOverview": closed({
            "days": {"type": "number"}, "since": {"type": "number"}, "total": INTEGER,
            "by_type": {"type": "object", "additionalProperties": INTEGER},
            "votes": closed({"up": INTEGER, "down": INTEGER}),
            "unanswered": {"type": "array", "items": group}, "low_confidence": {"type": "array", "items": group},
            "downvotes": {"type": "array", "items": closed({
                "created": {"type": "number"}, "message": {"type": "string"}, "type": {"type": "string"},
                "confidence": {"type": ["number", "null"]}, "top_passage": NULLABLE_STRING,
                "comment": NULLABLE_STRING})},
            "topics": {"type": "array", "items": closed({
                **strings("doc_id", "title"), "count": INTEGER,
                "passages": {"type": "array", "items": closed({"passage": {"type": "string"}, "count": INTEGER})}})}}),
        "CorpusInfo": document,
        "CorpusAnswer": closed({"corpus": {"anyOf": [ref("CorpusInfo"), {"type": "null"}]}}),
        "Reindexed": closed({"ok": {"const": True}, "corpus": ref("CorpusInfo")}),
    }
    return {**staff, **openapi_knowledge.schemas(config, {**public, **staff})}
