"""Pieces the OpenAPI document is built from: references, closed objects, responses and the error body,
and the staff operations' common parts (the bearer token, the errors every one of them can give)."""
from __future__ import annotations

from .api import WHITESPACE

TOKEN = r"^[A-Za-z0-9_-]{8,64}$"
# The API refuses text that is only whitespace as Python's str.strip() sees it, or NUL (dropped):
# ECMA's \s is a different set (it lacks U+001C-U+001F and U+0085, and has U+FEFF).
NOT_BLANK = "[^" + "".join(f"\\u{ord(c):04x}" for c in "\x00" + WHITESPACE) + "]"
NOT_SPACE = "[^" + "".join(f"\\u{ord(c):04x}" for c in WHITESPACE) + "]"  # where a NUL is kept, it counts

# What each error status means, unless an operation says otherwise; every one has the Error body.
MEANING = {
    400: "Invalid input: the code says which field and why.",
    401: "No bearer token, or not the staff token (FAQBOT_STAFF_TOKEN).",
    404: "Not found.",
    413: "The request body is larger than the limit.",
    415: "The body is not sent as application/json.",
    422: "The request was understood but can't be carried out: the message says why.",
    429: "Too many requests from this address; wait Retry-After seconds.",
    503: "The database can't be reached right now; try again later.",
}
HEADERS_OF = {401: ("WWW-Authenticate",), 429: ("Retry-After",)}

STAFF_SECURITY = [{"bearer": []}]
# Every staff operation can answer these: no or a wrong token (401), the console off (404), and an
# address locked out after repeated wrong tokens (429, when rate limits are on).
STAFF_SAY = {404: "The staff console is off: no FAQBOT_STAFF_TOKEN is set.",
             429: "This address sent too many wrong tokens; wait Retry-After seconds."}
STAFF_COMMON = (401, 404, 429)
INTEGER = {"type": "integer", "minimum": 0}
TEXTS = {"type": "array", "items": {"type": "string"}}
NULLABLE_STRING = {"type": ["string", "null"]}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def strings(*names: str) -> dict:
    return {name: {"type": "string"} for name in names}


def closed(properties: dict, required: list[str] | None = None) -> dict:
    """Return an object schema that lists every property a response carries, and no others."""
    return {"type": "object", "properties": properties, "required": list(properties) if required is None else required,
            "additionalProperties": False}


def respond(description: str, schema: str, *headers: str) -> dict:
    """Describe one JSON response; every response carries X-Request-ID."""
    return {
        "description": description,
        "headers": {h: {"$ref": f"#/components/headers/{h}"} for h in ("X-Request-ID", *headers)},
        "content": {"application/json": {"schema": ref(schema)}},
    }


def errors(*statuses: int, say: dict[int, str] | None = None) -> dict:
    """Describe the error responses an operation can give, all in the one error body."""
    meaning = {**MEANING, **(say or {})}
    return {str(s): respond(meaning[s], "Error", *HEADERS_OF.get(s, ())) for s in statuses}


def operation(op_id: str, summary: str, ok: dict, *statuses: int, say: dict | None = None, status: int = 200,
              also: dict | None = None, **extra) -> dict:
    """Describe one staff operation: its success (`status`, 200 unless said), its errors, any other
    answer with a body of its own (`also`), and the bearer token it needs."""
    return {"operationId": op_id, "summary": summary, "tags": ["staff"], "security": STAFF_SECURITY, **extra,
            "responses": {str(status): ok, **errors(*sorted({*statuses, *STAFF_COMMON}),
                                                    say={**STAFF_SAY, **(say or {})}), **(also or {})}}


def json_body(schema: str, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": ref(schema)}}}


HEADERS = {
    "X-Request-ID": {"description": "The request's id, as logged.", "required": True, "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds until a request may succeed.", "required": True,
                    "schema": {"type": "string", "pattern": r"^[0-9]+$"}},
    "WWW-Authenticate": {"description": "How to authenticate: Bearer.", "required": True,
                         "schema": {"type": "string", "pattern": "^Bearer "}},
}
