"""The staff JSON API (/api/staff/*, bearer token), and the request handling the console pages share."""
from __future__ import annotations

import itertools
import json
import logging
import re
import time
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request

from ..evaluation import analytics
from . import staff_auth as auth
from .bodies import STAFF_UPLOAD_LIMIT
from .api import contact, json_object, session_field, text_field
from ..knowledge.corpus import CorpusError
from ..errors import ApiError, error_response
from ..evaluation.runner import MAX_TURNS, EvalFileError, parse_eval
from ..evaluation.explain import MAX_CASES, Explanation, explain, explanation_json, replay, report_json, run_eval
from ..storage.base import StoreUnavailable

log = logging.getLogger(__name__)
bp = Blueprint("staff_api", __name__, url_prefix="/api/staff")
UPLOAD_LIMIT = STAFF_UPLOAD_LIMIT
NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")  # used with fullmatch
UPLOADS = ("staff.eval_run", "staff_api.eval_api", "staff_api.eval_set_put_api")


def guard():
    """Answer 404 while the console is off and 401 without the right bearer token.

    An app-wide hook, registered before the one that reads JSON bodies (security.guard_json): a stranger's
    large body gets the 401, not a 413 that the staff API's own upload limit would not have given.
    """
    if request.blueprint != "staff_api":
        return None
    auth.require_enabled()
    return auth.bearer_failure()


bp.after_request(auth.protect)


def bot():
    return current_app.extensions["faqbot"]


def store():
    """The store, with this worker's queued question-log rows written first, so staff see every answer
    given so far (a database that is down costs this at most half a second)."""
    current_app.extensions["faqbot.log"].flush(timeout=0.5)
    return current_app.extensions["faqbot.store"]


def allow_upload() -> None:
    """Raise the body limit (the app's is sized for chat messages) for evaluation uploads, before it is read."""
    # Only for staff who are in: a larger body is more work for anyone to send.
    authorised = auth.configured_token() and (auth.logged_in() if request.endpoint == UPLOADS[0]
                                              else auth.bearer_failure() is None)
    if request.endpoint in UPLOADS and authorised:
        request.max_content_length = UPLOAD_LIMIT
        request.max_form_memory_size = UPLOAD_LIMIT


def run_explain(data: dict) -> tuple[Explanation, str | None]:
    """Validate an explain request (message, session_id?, previous?) and run the pipeline on it."""
    limit = current_app.config["MAX_MESSAGE_LENGTH"]
    message = text_field(data, "message", limit)
    session_id = session_field(data, required=False)
    previous = earlier_messages(data.get("previous"), limit)
    history = store().history(session_id) if session_id else []
    return explain(bot(), message, replay(bot(), previous, history)), session_id


def earlier_messages(value, limit: int) -> list[str]:
    """Validate `previous`: absent or null, or a list of messages each checked as `message` is."""
    if value is None:
        return []
    if isinstance(value, list) and len(value) <= MAX_TURNS:
        try:
            return [text_field({"previous": m}, "previous", limit) for m in value]
        except ApiError:
            pass
    raise ApiError(400, "invalid_field", f"The field 'previous' must be a list of up to {MAX_TURNS} earlier "
                   f"messages, each text that is not blank, of at most {limit} characters.")


def posted_cases() -> bytes | None:
    """Return the cases a request sends (an uploaded file or a JSON body), or None for the shipped file."""
    if request.mimetype == "multipart/form-data":  # the field `file`: an uploaded file, or its text
        upload = request.files.get("file")
        if upload is not None:
            return upload.read()
        if "file" not in request.form:
            raise EvalFileError(["choose a file to upload (the form field 'file')"])
        return request.form["file"].encode("utf-8")
    body = request.get_data()
    if not body.strip():
        return None
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type",
                       "Send the cases as application/json, or upload a file as multipart/form-data.")
    try:
        return None if json.loads(body) == {} else body  # {}: no cases given, as with no body
    except (ValueError, RecursionError):
        return body  # parse_eval says what is wrong with it


def load_cases(raw: bytes | str | None) -> tuple[list[dict], str]:
    """Parse uploaded or pasted cases, or the configured evaluation file when none are given."""
    limit = current_app.config["MAX_MESSAGE_LENGTH"]
    if raw is not None:
        return parse_eval(raw, limit, MAX_CASES), "your cases"
    path = Path(current_app.config["EVAL_FILE"])
    if not path.is_file():
        raise EvalFileError([f"no evaluation file at {path} (set FAQBOT_EVAL_FILE)"])
    return parse_eval(path.read_bytes(), limit, MAX_CASES), str(path)


def log_days(strict: bool = False) -> float:
    """Read the `days` parameter: 30 by default, at least 1, never beyond the retention period.

    Not a number (a JSON number's syntax: no "nan", "inf" or "1_0"): the API refuses it (strict), the
    console's pages read it as 30.
    """
    retention = float(current_app.config["LOG_RETENTION_DAYS"])
    raw = request.args.get("days", "30")
    if NUMBER.fullmatch(raw):
        days = float(raw)  # "1e999" is inf: the retention period
    elif strict:
        raise ApiError(400, "invalid_days", "The parameter 'days' must be a number of days, like 7 or 30.")
    else:
        days = 30.0
    return min(max(days, 1.0), retention)


def csv_response(days: float) -> Response:
    """Stream the log as a spreadsheet-safe CSV download."""
    chunks = analytics.export_csv(bot(), store(), days)
    first = next(chunks)  # run the query now, so a database fault is an error, not a cut-off file
    name = f"faqbot-questions-{time.strftime('%Y%m%d')}.csv"
    # The byte-order mark makes Excel read the file as UTF-8.
    return Response(itertools.chain(["\ufeff" + first], chunks), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/explain")
def explain_api():
    """Answer a message as /api/chat would, without storing it, and show the trace."""
    exp, session_id = run_explain(json_object())
    return jsonify(explanation_json(exp, session_id, contact()))


@bp.post("/eval")
def eval_api():
    """Score the shipped evaluation file, a JSON body of cases, or an uploaded file."""
    try:
        cases, label = load_cases(posted_cases())
    except EvalFileError as exc:
        raise ApiError(400, "invalid_eval_file", f"The evaluation file can't be used: {exc}") from None
    report = run_eval(bot(), cases)
    return jsonify({"source": label, **report_json(bot(), report, current_app.config)})


@bp.get("/log")
def log_api():
    """Summarise what visitors asked: groups of unanswered questions, thumbs-down, topics."""
    days = log_days(strict=True)
    view = analytics.overview(bot(), store(), days, current_app.config["STAFF_LOW_CONFIDENCE"])
    return jsonify({"days": days, **analytics.overview_json(view)})


@bp.get("/export.csv")
def export_api():
    """Download the question log as CSV."""
    return csv_response(log_days(strict=True))


@bp.get("/corpus")
def corpus_api():
    """Describe the corpus this worker is serving."""
    info = current_app.extensions["faqbot.reindexer"].info
    return jsonify({"corpus": info.as_dict() if info else None})


@bp.post("/reindex")
def reindex_api():
    """Validate the corpus and swap in a new index; a bad corpus is refused and the old index stays."""
    try:
        info = current_app.extensions["faqbot.reindexer"].reindex()
    except CorpusError as exc:
        raise ApiError(422, "corpus_invalid", "The corpus has problems, so the old index keeps serving: "
                       + "; ".join(exc.problems)) from None
    return jsonify({"ok": True, "corpus": info.as_dict()})


@bp.errorhandler(StoreUnavailable)
def database_down(exc: StoreUnavailable):
    """Answer 503 when the database (the visitor log, the knowledge's versions) can't be read."""
    log.warning("database unavailable to staff: %s", exc)
    return error_response(503, "unavailable", "The database can't be read right now. Please try again later.")
