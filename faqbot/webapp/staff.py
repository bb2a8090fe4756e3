"""The staff console: try a question and see why, run evaluations, read what visitors asked, reindex."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from ..evaluation import analytics
from .. import reindex
from . import staff_api, staff_knowledge  # staff_knowledge adds its routes to staff_api's blueprint
from . import staff_auth as auth
from ..knowledge.corpus import CorpusError
from ..errors import ApiError
from ..evaluation.runner import EvalFileError
from ..evaluation.explain import explanation_json, report_json, run_eval
from ..storage.base import StoreUnavailable

log = logging.getLogger(__name__)
bp = Blueprint("staff", __name__, url_prefix="/staff", static_folder="staff_static", static_url_path="/static",
               template_folder="templates")
OPEN = ("staff.login", "staff.static")  # reachable before logging in
PERIODS = (1, 7, 30, 90, 365)
EXPIRED = "The form expired or came from another page. Please try again."


@bp.before_request
def guard():
    """Hide the console while it is off, send strangers to the login form, check CSRF on every form."""
    auth.require_enabled()
    if request.endpoint not in OPEN and not auth.logged_in():
        if request.method == "GET":
            return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
        return render_template("staff/login.html", error="Please log in.", next=""), 401
    if request.method == "POST" and not auth.csrf_ok():
        if request.endpoint == "staff.login":
            return render_template("staff/login.html", error=EXPIRED, next=safe_next()), 400
        flash(EXPIRED, "error")
        return redirect(request.path, 303)
    return None


bp.after_request(auth.protect)


@bp.context_processor
def helpers() -> dict:
    return {"csrf_token": auth.csrf_token, "when": when, "corpus": current_app.extensions["faqbot.reindexer"].info,
            "clinic": current_app.config["CLINIC_NAME"], "logged_in": auth.logged_in}


def when(ts: float | None) -> str:
    """Format a timestamp in UTC (the page's script shows it in the reader's time zone)."""
    return datetime.fromtimestamp(ts or 0, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def safe_next() -> str:
    """Return where to go after logging in: only a console path (no open redirect)."""
    target = request.values.get("next", "")
    parts = urlsplit(target)
    ok = not parts.scheme and not parts.netloc and parts.path.startswith("/staff") and "\\" not in target
    return target if ok else url_for("staff.explain_page")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; a right token starts a console session."""
    if request.method == "GET":
        return render_template("staff/login.html", error=None, next=safe_next())
    if auth.log_in(request.form.get("token", "")):
        # Who publishes: the one token is shared, so the name typed here goes in the change history.
        session["staff_name"] = " ".join(request.form.get("name", "").split())[:60] or "staff"
        return redirect(safe_next(), 303)
    log.warning("staff login refused: wrong token")
    return render_template("staff/login.html", error="That token is not right.", next=safe_next()), 401


@bp.post("/logout")
def logout():
    auth.log_out()
    return redirect(url_for("staff.login"), 303)


@bp.get("/")
def explain_page():
    """Try a question: the reply as the widget shows it, and the trace of why."""
    form = {k: request.args.get(k, "").strip() for k in ("message", "session_id", "previous")}
    result = error = None
    if form["message"]:
        data = {"message": form["message"], "session_id": form["session_id"] or None,
                "previous": [m.strip() for m in form["previous"].splitlines() if m.strip()]}
        try:
            exp, session_id = staff_api.run_explain(data)
            result = {"exp": exp, **explanation_json(exp, session_id, staff_api.contact())}
        except ApiError as exc:
            error = exc.message
    return render_template("staff/explain.html", form=form, result=result, error=error, tab="explain")


@bp.get("/eval")
def eval_page():
    return render_template("staff/eval.html", report=None, problems=None, tab="eval", source="shipped")


@bp.post("/eval")
def eval_run():
    """Run the shipped, an uploaded or a pasted evaluation and show the scores and failures."""
    source = request.form.get("source", "shipped")
    try:
        if source == "upload":
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                raise EvalFileError(["choose a file to upload"])
            cases, label = staff_api.load_cases(upload.read())
            label = upload.filename
        elif source == "paste":
            cases, label = staff_api.load_cases(request.form.get("pasted", ""))
        else:
            cases, label = staff_api.load_cases(None)
    except EvalFileError as exc:
        return render_template("staff/eval.html", report=None, problems=exc.problems, tab="eval",
                               source=source, pasted=request.form.get("pasted", "")), 400
    bot = current_app.extensions["faqbot"]
    report = report_json(bot, run_eval(bot, cases), current_app.config)
    return render_template("staff/eval.html", report=report, label=label, problems=None, tab="eval",
                           source=source, pasted=request.form.get("pasted", ""))


@bp.get("/log")
def log_page():
    """Show what visitors asked, grouped, with what came closest for the unanswered ones."""
    days = staff_api.log_days()
    view = analytics.overview(current_app.extensions["faqbot"], staff_api.store(), days,
                              current_app.config["STAFF_LOW_CONFIDENCE"])
    retention = float(current_app.config["LOG_RETENTION_DAYS"])
    return render_template("staff/log.html", view=view, days=days, tab="log", retention=retention,
                           periods=[p for p in PERIODS if p <= retention] or [retention],
                           low=current_app.config["STAFF_LOW_CONFIDENCE"])


@bp.get("/export.csv")
def export():
    return staff_api.csv_response(staff_api.log_days())


@bp.get("/corpus")
def corpus_page():
    return render_template("staff/corpus.html", tab="corpus", folder=current_app.config["CORPUS_DIR"],
                           interval=current_app.config["REINDEX_CHECK_SECONDS"])


@bp.post("/reindex")
def reindex_run():
    """Reindex from the console; list the problems of a corpus that is refused."""
    try:
        info = current_app.extensions["faqbot.reindexer"].reindex()
    except CorpusError as exc:
        flash("The corpus has problems, so nothing changed: the old index keeps serving.", "error")
        for problem in exc.problems:
            flash(problem, "problem")
    else:
        flash(f"Reindexed: version {info.hash}, {len(info.documents)} documents, {info.passages} passages. "
              "Other workers switch within a second of their next request.", "ok")
    return redirect(url_for("staff.corpus_page"), 303)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc):
    return render_template("staff/eval.html", report=None, tab="eval", source="upload",
                           problems=[f"the file is larger than {staff_api.UPLOAD_LIMIT // 1024} KB"]), 413


@bp.errorhandler(StoreUnavailable)
def database_down(exc):
    log.warning("visitor log unavailable: %s", exc)
    return render_template("staff/message.html", tab="log", title="Visitor log unavailable",
                           text="The visitor log can't be read right now. Please try again later."), 503


def init_app(app: Flask) -> None:
    """Wire reindexing (always: `faqbot reindex` needs it) and the console (404 until a token is set)."""
    auth.configure(app)
    auth.init_lockout(app)  # before any hook that compares a token
    reindex.init_app(app)
    # App-level, so it runs before any app-wide hook that reads the body under the chat-sized limit.
    app.before_request(staff_api.guard)  # before any hook that reads a body: no token, no body read
    app.before_request(staff_api.allow_upload)
    app.register_blueprint(bp)
    app.register_blueprint(staff_api.bp)
