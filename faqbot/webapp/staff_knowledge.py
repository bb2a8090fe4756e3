"""Staff edit the knowledge: a draft (clinic answers, visitor questions, passage text), tried beside
the published version, gated by the evaluation, published to every instance, rolled back.

The routes join the staff API's blueprint (same token, same error body); the console's pages call
the same functions, so both refuse the same things in the same words.
"""
from __future__ import annotations

import logging
import threading

from flask import current_app, jsonify, request, session

from ..answering.pipeline import Bot
from ..errors import ApiError
from ..evaluation.compare import compare
from ..evaluation.explain import explain, explanation_json, replay
from ..knowledge import editing
from ..knowledge.content import Knowledge, article_passages, changes, orphaned
from ..building import build_from
from ..storage.knowledge import Draft
from .api import contact, json_object, text_field
from .staff_api import bp, earlier_messages
from .staff_eval_sets import evaluation_cases  # noqa: F401 (also adds the /eval-sets routes)
from .staff_limits import MAX_AUTHOR, MAX_SHOWN_PASSAGES, MAX_VERSION, PROPOSAL_TEXT, PROPOSALS

log = logging.getLogger(__name__)
_edits = threading.Lock()  # one draft edit at a time in this process (the draft is read, changed, written)


def reindexer():
    return current_app.extensions["faqbot.reindexer"]


def current_draft() -> Draft:
    """Staff's draft, or the published knowledge when nothing has been edited since."""
    r = reindexer()
    return r.versions.draft() or Draft(r.knowledge, r.info.version, 0.0, "")


def author(data: dict | None = None) -> str:
    """Who makes a change: the API's `author` field, else the name typed at login, else "staff"."""
    given = (data or {}).get("author")
    if given is not None:
        return text_field(data, "author", MAX_AUTHOR)
    return session.get("staff_name") or "staff"


def change_draft(edit, who: str) -> Knowledge:
    """Apply one edit (a function of the draft's knowledge) and save the draft; ApiError when refused."""
    with _edits:
        draft = current_draft()
        try:
            new = edit(draft.knowledge)
        except editing.EditError as exc:
            raise ApiError(404 if exc.code == "not_found" else 400, exc.code, str(exc)) from None
        reindexer().versions.save_draft(new, draft.base, who)
    return new


def draft_bot(knowledge: Knowledge) -> Bot:
    """A bot on the draft, built once per content (the published one when they are the same)."""
    if knowledge.digest == reindexer().knowledge.digest:
        return current_app.extensions["faqbot"]
    cached = current_app.extensions.get("faqbot.draft_bot")
    if cached is not None and cached[0] == knowledge.digest:
        return cached[1]
    bot = build_from(current_app.extensions["faqbot"].settings, knowledge)[0]
    current_app.extensions["faqbot.draft_bot"] = (knowledge.digest, bot)
    return bot


def draft_json(draft: Draft) -> dict:
    live = reindexer()
    return {"base": draft.base, "published": live.info.version, "updated": draft.updated, "author": draft.author,
            "changes": changes(live.knowledge, draft.knowledge), "orphaned_edits": orphaned(draft.knowledge),
            "answers": [{"id": a.id, "questions": list(a.questions), "answer": a.answer, "link": a.link}
                        for a in draft.knowledge.answers]}


def publish_draft(confirm: bool, who: str) -> tuple[int, dict]:
    """Evaluate the draft beside the published version and publish it, unless it regresses unconfirmed.

    Returns (status, body): 200 with the new version, 409 with the evaluation's diff.
    """
    with _edits:
        draft = current_draft()
        live = reindexer()
        lines = changes(live.knowledge, draft.knowledge)
        cases, sources = evaluation_cases()
        candidate = draft_bot(draft.knowledge)
        report = compare(current_app.extensions["faqbot"], candidate, cases, sources)
        if not lines:
            return 200, {"version": live.info.version, "published": False, "evaluation": report,
                         "message": "The draft is the published version: nothing to publish."}
        if report["regressions"] and not confirm:
            return 409, {"error": {"code": "regression", "message": (
                f"The draft fails {report['regressions']} evaluation case(s) the published version passes; "
                "look at them, then publish with {\"confirm\": true} to publish anyway.")}, "evaluation": report}
        note = [f"evaluation: {report['passed']['draft']}/{report['cases']} passed "
                f"({report['passed']['published']} before)"] + (["published despite regressions"] if
                                                                report["regressions"] else [])
        info = live.publish(draft.knowledge, who, "\n".join([*lines, *note]), candidate)  # the bot evaluated goes live
        live.versions.save_draft(draft.knowledge, info.version, who)
    return 200, {"version": info.version, "published": True, "evaluation": report}


# -- the JSON API -------------------------------------------------------------------------------
def _created(knowledge_id: str):
    return jsonify({"id": knowledge_id, "draft": draft_json(current_draft())}), 201


@bp.get("/knowledge")
def knowledge_api():
    """The draft (what changed since the published version, the clinic answers) and the versions."""
    return jsonify({"draft": draft_json(current_draft()),
                    "versions": [v.as_dict() for v in reindexer().versions.versions()]})


@bp.get("/passages")
def passages_api():
    """The draft's article passages (of one document with ?doc_id=), with their visitor questions."""
    knowledge = current_draft().knowledge
    doc = request.args.get("doc_id")
    rows = [p for p in article_passages(knowledge) if doc is None or p.doc_id == doc]
    return jsonify({"passages": [{"id": p.id, "doc_id": p.doc_id, "title": p.doc_title, "heading": p.heading,
                                  "text": p.text, "questions": list(p.questions), "edited": p.id in knowledge.edits}
                                 for p in rows[:MAX_SHOWN_PASSAGES]], "total": len(rows)})


@bp.post("/answers")
def answer_add_api():
    """Write a clinic answer into the draft."""
    data = json_object()
    made = {}

    def add(k):
        new, made["id"] = editing.add_answer(k, data.get("questions"), data.get("answer"), data.get("link"))
        return new
    change_draft(add, author(data))
    return _created(made["id"])


@bp.put("/answers/<answer_id>")
def answer_edit_api(answer_id: str):
    data = json_object()
    change_draft(lambda k: editing.update_answer(k, answer_id, data.get("questions"), data.get("answer"),
                                                 data.get("link")), author(data))
    return jsonify({"id": answer_id, "draft": draft_json(current_draft())})


@bp.delete("/answers/<answer_id>")
def answer_delete_api(answer_id: str):
    change_draft(lambda k: editing.delete_answer(k, answer_id), author())
    return jsonify({"ok": True, "draft": draft_json(current_draft())})


@bp.post("/questions")
def question_add_api():
    """Attach a visitor's wording to a passage or a clinic answer: {"passage": id, "question": str}."""
    data = json_object()
    change_draft(lambda k: editing.attach_question(k, data.get("passage"), data.get("question")), author(data))
    return jsonify({"ok": True, "draft": draft_json(current_draft())}), 201


@bp.post("/questions/remove")
def question_remove_api():
    data = json_object()
    change_draft(lambda k: editing.remove_question(k, data.get("passage"), data.get("question")), author(data))
    return jsonify({"ok": True, "draft": draft_json(current_draft())})


@bp.put("/passages")
def passage_text_api():
    """Replace a passage's text in the draft: {"passage": id, "text": str or null (the article's own)}."""
    data = json_object()
    change_draft(lambda k: editing.edit_text(k, data.get("passage"), data.get("text")), author(data))
    return jsonify({"ok": True, "draft": draft_json(current_draft())})


def discard_draft(who: str) -> None:
    """Throw the draft away: it is the published version again."""
    live = reindexer()
    with _edits:
        live.versions.save_draft(live.knowledge, live.info.version, who)


@bp.post("/draft/discard")
def draft_discard_api():
    discard_draft(author())
    return jsonify({"ok": True, "draft": draft_json(current_draft())})


@bp.post("/try")
def try_api():
    """Answer a message with the published knowledge and with the draft, each with its trace."""
    data = json_object()
    limit = current_app.config["MAX_MESSAGE_LENGTH"]
    message = text_field(data, "message", limit)
    previous = earlier_messages(data.get("previous"), limit)
    out = {}
    for name, bot in (("published", current_app.extensions["faqbot"]), ("draft", draft_bot(current_draft().knowledge))):
        out[name] = explanation_json(explain(bot, message, replay(bot, previous, [])), None, contact())
    return jsonify(out)


@bp.get("/proposals")
def proposals_api():
    """The three passages or clinic answers of the draft most likely to answer a visitor's question."""
    message = text_field(dict(request.args), "message", current_app.config["MAX_MESSAGE_LENGTH"])
    return jsonify({"message": message, "candidates": proposals(message)})


def proposals(message: str, n: int = PROPOSALS) -> list[dict]:
    bot = draft_bot(current_draft().knowledge)
    hits = bot.reply(message, []).trace.hits
    return [{"passage": h["id"], "title": h["source"]["title"], "heading": h["source"]["heading"],
             "text": h["text"][:PROPOSAL_TEXT], "score": h["score"]} for h in hits[:n]]


@bp.post("/publish")
def publish_api():
    """Publish the draft after the evaluation; 409 with the diff when it regresses, unless confirmed."""
    data = json_object() if request.get_data().strip() else {}
    confirm = data.get("confirm", False)
    if not isinstance(confirm, bool):
        raise ApiError(400, "invalid_field", "The field 'confirm' must be true or false.")
    status, body = publish_draft(confirm, author(data))
    return jsonify(body), status


@bp.post("/rollback")
def rollback_api():
    """Publish a copy of an earlier version everywhere: {"version": int}."""
    data = json_object()
    version = data.get("version")
    if isinstance(version, float) and version.is_integer():
        version = int(version)  # JSON has one kind of number: 2.0 is 2
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ApiError(400, "invalid_field", "The field 'version' must be a published version number (1, 2...).")
    who = author(data)
    try:
        if version > MAX_VERSION:  # no database holds it, and SQLite can't even look it up
            raise LookupError(version)
        info = reindexer().rollback(version, who)
    except LookupError:
        raise ApiError(404, "not_found", f"There is no published version {version}.") from None
    return jsonify({"version": info.version, "restored": version})


@bp.get("/versions")
def versions_api():
    return jsonify({"versions": [v.as_dict() for v in reindexer().versions.versions()]})
