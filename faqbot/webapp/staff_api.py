"""The staff JSON API (/api/staff/*, bearer token), and the request handling the console pages share."""
from __future__ import annotations

import itertools
import logging
import math
import time
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request

from ..evaluation import analytics
from . import staff_auth as auth
from .api import contact, json_object, session_field, text_field
from ..knowledge.corpus import CorpusError
from ..errors import ApiError, error_response
from ..evaluation.runner import MAX_TURNS, EvalFileError, parse_eval
from ..evaluation.explain import MAX_CASES, Explanation, explain, explanation_json, replay, report_json, run_eval
from ..storage.base import StoreUnavailable

log = logging.getLogger(__name__)
bp = Blueprint("staff_api", __name__, url_prefix="/api/staff")
UPLOAD_LIMIT = 1024 * 1024  # bytes: an evaluation file is far larger than a chat message
UPLOADS = ("staff.eval_run", "staff_api.eval_api")


@bp.before_request
def guard():
    """Answer 404 while the console is off and 401 without the right bearer token."""
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
    previous = data.get("previous") or []
    if not isinstance(previous, list) or len(previous) > MAX_TURNS or not all(
            isinstance(m, str) and m.strip() and len(m) <= limit for m in previous):
        raise ApiError(400, "invalid_field",
                       f"The field 'previous' must be a list of up to {MAX_TURNS} earlier messages.")
    history = store().history(session_id) if session_id else []
    return explain(bot(), message, replay(bot(), previous, history)), session_id


def load_cases(raw: bytes | str | None) -> tuple[list[dict], str]:
    """Parse uploaded or pasted cases, or the configured evaluation file when none are given."""
    limit = current_app.config["MAX_MESSAGE_LENGTH"]
    if raw is not None:
        return parse_eval(raw, limit, MAX_CASES), "your cases"
    path = Path(current_app.config["EVAL_FILE"])
    if not path.is_file():
        raise EvalFileError([f"no evaluation file at {path} (set FAQBOT_EVAL_FILE)"])
    return parse_eval(path.read_bytes(), limit, MAX_CASES), str(path)


def log_days() -> float:
    """Read the `days` parameter: 30 by default, never beyond the retention period."""
    retention = float(current_app.config["LOG_RETENTION_DAYS"])
    try:
        days = float(request.args.get("days", 30))
    except ValueError:
        days = 30.0
    if not math.isfinite(days):  # "nan" and "inf" parse as floats
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
        if request.files.get("file"):
            cases, label = load_cases(request.files["file"].read())
        else:
            body = request.get_data()
            cases, label = load_cases(body if body.strip() not in (b"", b"{}") else None)
    except EvalFileError as exc:
        raise ApiError(400, "invalid_eval_file", f"The evaluation file can't be used: {exc}") from None
    report = run_eval(bot(), cases)
    return jsonify({"source": label, **report_json(bot(), report, current_app.config)})


@bp.get("/log")
def log_api():
    """Summarise what visitors asked: groups of unanswered questions, thumbs-down, topics."""
    days = log_days()
    view = analytics.overview(bot(), store(), days, current_app.config["STAFF_LOW_CONFIDENCE"])
    return jsonify({"days": days, **analytics.overview_json(view)})


@bp.get("/export.csv")
def export_api():
    """Download the question log as CSV."""
    return csv_response(log_days())


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
    """Answer 503 when the visitor log can't be read."""
    log.warning("visitor log unavailable: %s", exc)
    return error_response(503, "unavailable", "The visitor log can't be read right now. Please try again later.")
