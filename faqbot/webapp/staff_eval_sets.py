"""The clinic's own evaluation sets (/api/staff/eval-sets): stored in the database, and with the shipped
evaluation file they gate publishing a draft (staff_knowledge.publish_draft)."""
from __future__ import annotations

import json
import logging
import re
import threading
from pathlib import Path

from flask import current_app, jsonify, request

from ..errors import ApiError
from ..evaluation.runner import EvalFileError, parse_eval
from .staff_api import bp
from .staff_limits import MAX_SET_CASES, MAX_SETS, SET_NAME

log = logging.getLogger(__name__)
_sets = threading.Lock()  # sets are read, changed and written: one change at a time in this process


def reindexer():
    return current_app.extensions["faqbot.reindexer"]


def evaluation_cases() -> tuple[list[dict], list[str]]:
    """The cases a publish is gated on: the shipped evaluation file, and the clinic's own sets."""
    limit = current_app.config["MAX_MESSAGE_LENGTH"]
    cases, sources = [], []
    path = Path(current_app.config["EVAL_FILE"])
    if path.is_file():
        try:
            cases += [{**c, "_set": path.name} for c in parse_eval(path.read_bytes(), limit)]
            sources.append(str(path))
        except EvalFileError as exc:
            log.warning("the evaluation file %s can't gate publishing: %s", path, exc)
    for name, raw in sorted(clinic_sets().items()):
        try:  # stored under other limits (a lower FAQBOT_MAX_MESSAGE_LENGTH since): said, not a 500
            cases += [{**c, "_set": name} for c in parse_eval(json.dumps(raw), limit)]
            sources.append(f"clinic set {name}")
        except EvalFileError as exc:
            log.warning("the clinic evaluation set %s can't gate publishing: %s", name, exc)
            sources.append(f"clinic set {name}: skipped, it no longer passes the limits ({exc})")
    return cases, sources


EVAL_SETS_KEY = "clinic_eval_sets"


def clinic_sets() -> dict:
    raw = reindexer().versions.read_meta(EVAL_SETS_KEY)
    return json.loads(raw) if raw else {}


@bp.get("/eval-sets")
def eval_sets_api():
    """The clinic's own evaluation sets, which gate publishing beside the shipped one."""
    return jsonify({"sets": {name: len(cases["cases"]) for name, cases in clinic_sets().items()}})


@bp.put("/eval-sets/<name>")
def eval_set_put_api(name: str):
    """Store (or replace) a clinic evaluation set, in the format of eval/questions.json."""
    if not re.fullmatch(SET_NAME, name):
        raise ApiError(400, "invalid_field", "A set's name is 1 to 60 letters, digits, '.', '_' or '-'.")
    raw = request.get_data()
    try:
        cases = parse_eval(raw, current_app.config["MAX_MESSAGE_LENGTH"], MAX_SET_CASES)
    except EvalFileError as exc:
        raise ApiError(400, "invalid_eval_file", f"The evaluation set can't be used: {exc}") from None
    with _sets:  # read, changed, written: one at a time in this process
        sets = clinic_sets()
        if name not in sets and len(sets) >= MAX_SETS:
            # The request is fine; what is stored is in the way (a 400 would say the request itself is wrong).
            raise ApiError(409, "too_many_sets", f"There are {MAX_SETS} clinic sets already; delete one first.")
        sets[name] = {"cases": cases}
        save_sets(sets)
    return jsonify({"name": name, "cases": len(cases)}), 201


def save_sets(sets: dict) -> None:
    if not reindexer().store.set_meta(EVAL_SETS_KEY, json.dumps(sets, ensure_ascii=False)):
        raise ApiError(503, "unavailable", "The database can't be written right now. Please try again later.")


@bp.delete("/eval-sets/<name>")
def eval_set_delete_api(name: str):
    with _sets:
        sets = clinic_sets()
        if sets.pop(name, None) is None:
            raise ApiError(404, "not_found", f"There is no clinic evaluation set '{name}'.")
        save_sets(sets)
    return jsonify({"ok": True})
