"""The console's Knowledge page: edit the draft, try it, publish it (gated by the evaluation), roll back.

Forms post here and come back to the page (post/redirect/get); every change goes through the
functions the JSON API uses, so both refuse the same things in the same words.
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for

from ..errors import ApiError
from ..evaluation.explain import explain, explanation_json
from ..knowledge import editing
from ..knowledge.content import MAX_ANSWER, MAX_LINK, MAX_PASSAGE, MAX_QUESTION, article_passages, changes
from ..storage.base import StoreUnavailable
from . import staff, staff_knowledge as sk
from . import staff_auth as auth
from .api import contact

# Pages of the console (its login, CSRF check, helpers and headers), in a blueprint of their own.
bp = Blueprint("staff_knowledge", __name__, url_prefix="/staff")
bp.before_request(staff.guard)
bp.after_request(auth.protect)
bp.context_processor(staff.helpers)
bp.register_error_handler(StoreUnavailable, staff.database_down)


def back(**args):
    return redirect(url_for("staff_knowledge.knowledge_page", **{k: v for k, v in args.items() if v}) + "#" +
                    request.form.get("anchor", ""), 303)


def form_change(edit, done: str):
    """Apply a change to the draft from a form; say what happened, or why not."""
    try:
        sk.change_draft(edit, sk.author())
        flash(done, "ok")
    except ApiError as exc:
        flash(exc.message, "error")
    except StoreUnavailable:
        flash("The database can't be written right now, so nothing changed. Please try again.", "error")
    return back(doc=request.form.get("doc"))


@bp.get("/knowledge")
def knowledge_page():
    """The draft beside the published version: clinic answers, the passages of one article, the versions."""
    message = request.args.get("try", "").strip()[:current_app.config["MAX_MESSAGE_LENGTH"]]
    return render_template("staff/knowledge.html", **page_context(sk.current_draft(), request.args.get("doc"),
                                                                  message))


def page_context(draft, doc: str | None = None, message: str = "", evaluation: dict | None = None) -> dict:
    live = sk.reindexer()
    docs = [(d.id, d.title) for d in draft.knowledge.documents]
    doc = doc if doc in dict(docs) else (docs[0][0] if docs else None)
    tried = None
    if message:  # the same question to the published version and to the draft, side by side
        tried = {name: explanation_json(explain(bot, message, []), None, contact())["reply"]
                 for name, bot in (("published", current_app.extensions["faqbot"]),
                                   ("draft", sk.draft_bot(draft.knowledge)))}
    return {"tab": "knowledge", "draft": draft, "live": live.info, "changes": changes(live.knowledge, draft.knowledge),
            "docs": docs, "doc": doc, "edited": draft.knowledge.edits, "versions": live.versions.versions(),
            "passages": [p for p in article_passages(draft.knowledge) if p.doc_id == doc][:sk.MAX_SHOWN_PASSAGES],
            "message": message, "tried": tried, "evaluation": evaluation,
            # The forms' own limits, the same the edits are checked against.
            "limits": {"message": current_app.config["MAX_MESSAGE_LENGTH"], "answer": MAX_ANSWER, "link": MAX_LINK,
                       "question": MAX_QUESTION, "passage": MAX_PASSAGE}}


@bp.get("/knowledge/fix")
def fix_page():
    """One visitor question: the three passages or answers most likely to answer it, or a new clinic answer."""
    message = request.args.get("message", "").strip()[:current_app.config["MAX_MESSAGE_LENGTH"]]
    if not message:
        return redirect(url_for("staff.log_page"), 303)
    return render_template("staff/fix.html", tab="knowledge", message=message, candidates=sk.proposals(message))


@bp.post("/knowledge/answers")
def answer_save():
    f = request.form
    answer_id = f.get("id")
    if f.get("action") == "delete":
        return form_change(lambda k: editing.delete_answer(k, answer_id), "Clinic answer deleted from the draft.")
    if answer_id:
        return form_change(lambda k: editing.update_answer(k, answer_id, f.get("questions", ""), f.get("answer"),
                                                           f.get("link")), "Clinic answer saved in the draft.")
    return form_change(lambda k: editing.add_answer(k, f.get("questions", ""), f.get("answer"), f.get("link"))[0],
                       "Clinic answer added to the draft.")


@bp.post("/knowledge/questions")
def question_save():
    f = request.form
    if f.get("action") == "remove":
        return form_change(lambda k: editing.remove_question(k, f.get("passage"), f.get("question")),
                           "Question taken off in the draft.")
    return form_change(lambda k: editing.attach_question(k, f.get("passage"), f.get("question")),
                       f"Question attached to {f.get('passage')} in the draft. Try it, then publish.")


@bp.post("/knowledge/passages")
def passage_save():
    f = request.form
    text = None if f.get("action") == "revert" else f.get("text")
    return form_change(lambda k: editing.edit_text(k, f.get("passage"), text),
                       "Passage text restored in the draft." if text is None else "Passage text saved in the draft.")


@bp.post("/knowledge/discard")
def discard():
    sk.discard_draft(sk.author())
    flash("Draft discarded: it is the published version again.", "ok")
    return back()


@bp.post("/knowledge/publish")
def publish():
    """Publish after the evaluation; a regression shows the cases and asks to confirm."""
    status, body = sk.publish_draft(request.form.get("confirm") == "yes", sk.author())
    if status == 409:
        flash(body["error"]["message"].split(";")[0] + ".", "error")
        return render_template("staff/knowledge.html", **page_context(sk.current_draft(),
                                                                      evaluation=body["evaluation"])), 409
    report = body["evaluation"]
    checked = (f"Evaluation: {report['passed']['draft']}/{report['cases']} passed "
               f"({report['passed']['published']} before).") if report["cases"] else \
        "No evaluation ran: there is no evaluation file (FAQBOT_EVAL_FILE) and no clinic set."
    if body["published"]:
        flash(f"Published version {body['version']}: every instance switches within seconds. {checked}",
              "ok" if report["cases"] else "error")
    else:
        flash(body["message"], "ok")
    return back()


@bp.post("/knowledge/rollback")
def rollback():
    try:
        version = int(request.form.get("version", ""))
        info = sk.reindexer().rollback(version, sk.author())
    except (ValueError, LookupError):
        flash("There is no such version.", "error")
    else:
        flash(f"Version {version} is live again (published as version {info.version}).", "ok")
    return back()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
