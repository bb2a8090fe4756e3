"""The staff API's knowledge operations in the OpenAPI document: the draft, publishing, versions, evaluation sets.

Part of the staff part (openapi_staff.py, which merges these in). The limits it states are the
code's own constants (faqbot/knowledge/content.py, staff_limits.py); the rules on staff's text are
faqbot/knowledge/editing.py's, which the JSON API and the console share.
"""
from __future__ import annotations

from ..evaluation.compare import MAX_SHOWN
from ..evaluation.runner import KINDS
from ..knowledge.content import CLINIC_DOC, MAX_ANSWER, MAX_ANSWERS, MAX_LINK, MAX_PASSAGE, MAX_QUESTION, MAX_QUESTIONS
from ..knowledge.editing import CONTROL, LINK
from .api import WHITESPACE
from .bodies import STAFF_UPLOAD_LIMIT
from .openapi_common import (INTEGER, NOT_BLANK, NULLABLE_STRING, TEXTS, closed, json_body, operation, ref, respond,
                             strings)
from .staff_limits import MAX_AUTHOR, MAX_SET_CASES, MAX_SETS, MAX_SHOWN_PASSAGES, PROPOSAL_TEXT, PROPOSALS, SET_NAME


def _chars(chars) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in sorted(chars))


# Staff text is tidied (control characters and runs of whitespace become one space, the ends trimmed):
# it must keep a character, and its limit counts the tidied text.
TIDIED = {c for c in map(chr, range(0x80)) if CONTROL.fullmatch(c)} | set(WHITESPACE)
KEPT = f"[^{_chars(TIDIED)}]"
SPACE = f"[{_chars(WHITESPACE)}]"
# editing.LINK (case-insensitive, Python's \s) in a form both ECMA and Python regexes read alike.
LINK_PATTERN = (f"^{SPACE}*(?:{LINK.pattern}){SPACE}*$".replace("\\s", _chars(WHITESPACE))
                .replace("https?", "[hH][tT][tT][pP][sS]?"))
# The console's box of questions, one a line (str.splitlines), blank lines left out: at most MAX_QUESTIONS
# lines that keep a character, each at most MAX_QUESTION from its first such character (before it is trimmed).
BREAK = _chars(c for c in map(chr, range(0x3001)) if len(f"a{c}b".splitlines()) == 2)
LINES = (f"^[{_chars(TIDIED)}]*(?:{KEPT}[^{BREAK}]{{0,{MAX_QUESTION - 1}}}(?:[{BREAK}][{_chars(TIDIED)}]*|$))"
         f"{{1,{MAX_QUESTIONS}}}$")
OK = {"const": True}


def staff_text(limit: int, what: str) -> dict:
    return {"type": "string", "maxLength": limit, "pattern": KEPT, "description": (
        f"{what}: text that is not blank, at most {limit} characters once tidied (control characters and "
        "runs of whitespace become one space, the ends are trimmed).")}


def author() -> dict:
    return {"type": ["string", "null"], "minLength": 1, "maxLength": MAX_AUTHOR, "pattern": NOT_BLANK,
            "description": "Who makes the change, for the change history; else the name typed at the console's "
                           "login, else \"staff\"."}


def with_author(required: list[str], **properties) -> dict:
    return {"type": "object", "required": required, "properties": {**properties, "author": author()}}


BAD_BODY = ("The body is not a JSON object (invalid_json, invalid_body, too_deep, number_too_long), or a field "
            "is refused: invalid_field names it and why; `author` can also be too_long or empty_field.")
PASSAGE_ID = {"type": "string", "minLength": 1, "description": (
    f"A passage id as in a reply's passages: an article's (doc#n), or a clinic answer's ({CLINIC_DOC}#<answer id>).")}


def paths(config) -> dict:
    name = [{"name": "name", "in": "path", "required": True, "description": "The set's name.",
             "schema": {"type": "string", "pattern": f"^{SET_NAME}$"}}]
    answer_id = [{"name": "answer_id", "in": "path", "required": True, "description": "The clinic answer's id.",
                  "schema": {"type": "string", "minLength": 1}}]
    message = {"type": "string", "minLength": 1, "maxLength": config["MAX_MESSAGE_LENGTH"], "pattern": NOT_BLANK}
    no_answer = {404: "No clinic answer with that id in the draft; or the staff console is off."}
    no_passage = {404: "No such passage (or clinic answer) in the draft, or it has no such question; or the staff "
                       "console is off."}
    edited = respond("The draft as it now is.", "DraftChanged")
    return {
        "/api/staff/knowledge": {"get": operation(
            "staff_knowledge", "The draft (what changed since the published version, the clinic answers) and the "
                               "published versions.", respond("The draft and the versions.", "KnowledgeOverview"),
            503)},
        "/api/staff/passages": {
            "get": operation(
                "staff_passages", f"The draft's article passages with their visitor questions (at most "
                                  f"{MAX_SHOWN_PASSAGES}; `total` counts them all).",
                respond("The passages.", "PassageList"), 503, parameters=[{
                    "name": "doc_id", "in": "query", "required": False, "schema": {"type": "string"},
                    "description": "Only this article's passages."}]),
            "put": operation(
                "staff_passage_text", "Replace a passage's text in the draft, or give it back the article's own.",
                edited, 400, 404, 413, 415, 503, say={400: BAD_BODY, **no_passage},
                requestBody=json_body("PassageTextRequest"))},
        "/api/staff/answers": {"post": operation(
            "staff_answer_add", f"Write a clinic answer into the draft (at most {MAX_ANSWERS} in all).",
            respond("Written: its id and the draft.", "AnswerWritten"), 400, 413, 415, 503, status=201,
            say={400: BAD_BODY + f" Also invalid_field when there are {MAX_ANSWERS} clinic answers already."},
            requestBody=json_body("ClinicAnswerRequest"))},
        "/api/staff/answers/{answer_id}": {
            "put": operation(
                "staff_answer_edit", "Rewrite a clinic answer in the draft.",
                respond("Rewritten: its id and the draft.", "AnswerWritten"), 400, 404, 413, 415, 503,
                say={400: BAD_BODY, **no_answer}, parameters=answer_id, requestBody=json_body("ClinicAnswerRequest")),
            "delete": operation(
                "staff_answer_delete", "Delete a clinic answer from the draft.", edited, 404, 503,
                say=no_answer, parameters=answer_id)},
        "/api/staff/questions": {"post": operation(
            "staff_question_add", "Attach a visitor's wording to a passage or a clinic answer of the draft.",
            respond("Attached (or it was there already).", "DraftChanged"), 400, 404, 413, 415, 503, status=201,
            say={400: BAD_BODY + f" Also invalid_field when the clinic answer has {MAX_QUESTIONS} questions, or "
                                 f"the passage {MAX_QUESTIONS * 2}, already.", **no_passage},
            requestBody=json_body("QuestionRequest"))},
        "/api/staff/questions/remove": {"post": operation(
            "staff_question_remove", "Take a visitor question off a passage or a clinic answer of the draft.",
            edited, 400, 404, 413, 415, 503,
            say={400: BAD_BODY + " Also invalid_field for a clinic answer's last question (delete the answer).",
                 **no_passage}, requestBody=json_body("QuestionRemoval"))},
        "/api/staff/draft/discard": {"post": operation(
            "staff_draft_discard", "Throw the draft away: it is the published version again.", edited, 503)},
        "/api/staff/try": {"post": operation(
            "staff_try", "Answer a message with the published knowledge and with the draft, each with its trace.",
            respond("Both replies and their traces (nothing is stored).", "TryAnswer"), 400, 413, 415, 503,
            requestBody=json_body("TryRequest"))},
        "/api/staff/proposals": {"get": operation(
            "staff_proposals", f"The {PROPOSALS} passages or clinic answers of the draft likeliest to answer a "
                               "visitor's question.", respond("The candidates, likeliest first.", "Proposals"),
            400, 503, say={400: "The parameter `message` is missing (missing_field), blank (empty_field) or too "
                                "long (too_long)."},
            parameters=[{"name": "message", "in": "query", "required": True, "schema": message,
                         "description": "The visitor's question, e.g. from the question log."}])},
        "/api/staff/publish": {"post": operation(
            "staff_publish", "Evaluate the draft beside the published version and publish it everywhere, unless it "
                             "fails cases the published version passes and that is not confirmed.",
            respond("Published (or nothing to publish), with the evaluation.", "Published"), 400, 413, 415, 503,
            say={400: BAD_BODY}, also={"409": respond(
                "Not published: the draft fails evaluation cases the published version passes (regression); "
                "the evaluation lists them. Publish with {\"confirm\": true} to publish anyway.", "PublishRefused")},
            requestBody={**json_body("PublishRequest", required=False), "description": "No body: {}."})},
        "/api/staff/rollback": {"post": operation(
            "staff_rollback", "Publish a copy of an earlier version everywhere.",
            respond("The new version and the one it restored.", "RolledBack"), 400, 404, 413, 415, 503,
            say={400: BAD_BODY, 404: "No such published version; or the staff console is off."},
            requestBody=json_body("RollbackRequest"))},
        "/api/staff/versions": {"get": operation(
            "staff_versions", "The published versions, newest first, each with what changed.",
            respond("The versions.", "VersionList"), 503)},
        "/api/staff/eval-sets": {"get": operation(
            "staff_eval_sets", "The clinic's own evaluation sets, which gate publishing beside the shipped file.",
            respond("Each set's name and how many cases it has.", "EvalSets"), 503)},
        "/api/staff/eval-sets/{name}": {
            "put": operation(
                "staff_eval_set_put", f"Store or replace a clinic evaluation set (at most {MAX_SETS} sets).",
                respond("Stored.", "EvalSetStored"), 400, 409, 413, 503, status=201, parameters=name,
                say={400: "The name is not one the pattern allows (invalid_field), or the cases can't be used "
                          "(invalid_eval_file): the message names each problem.",
                     409: f"There are {MAX_SETS} sets already and this name is not one of them (too_many_sets): "
                          "delete one first.",
                     413: f"The body is larger than {STAFF_UPLOAD_LIMIT} bytes."},
                requestBody={**json_body("EvalSet"), "description": (
                    f"The cases, in the format of eval/questions.json, at most {MAX_SET_CASES}; read as JSON "
                    "whatever the Content-Type.")}),
            "delete": operation(
                "staff_eval_set_delete", "Delete a clinic evaluation set.", respond("Deleted.", "Deleted"), 404, 503,
                parameters=name, say={404: "No clinic evaluation set of that name; or the staff console is off."})},
    }


def schemas(config, known: dict) -> dict:
    """Return the knowledge operations' schemas; `known` holds the public and other staff ones they build on."""
    question = staff_text(MAX_QUESTION, "A visitor's question")
    questions = {"anyOf": [
        {"type": "array", "minItems": 1, "maxItems": MAX_QUESTIONS, "items": question},
        {"type": "string", "pattern": LINES, "description": (
            f"One question per line, as the console's box sends them: at most {MAX_QUESTIONS} lines, each at most "
            f"{MAX_QUESTION} characters once tidied; blank lines are left out.")}],
        "description": "The visitor questions it answers; repeats (whatever the case) are kept once."}
    link = {"anyOf": [{"type": "null"}, {"type": "string", "pattern": f"^{SPACE}*$"},
                      {"type": "string", "maxLength": MAX_LINK, "pattern": LINK_PATTERN}], "description": (
        "Where to read more: an http:// or https:// address (a page of the clinic's site). "
        "Null or blank: none.")}
    outcome = closed({"ok": {"type": "boolean"}, "type": {"type": "string"}, "top_passage": NULLABLE_STRING,
                      "why": {"type": "string"}})
    explain = known["ExplainRequest"]
    return {
        "ClinicAnswerRequest": with_author(["questions", "answer"], questions=questions,
                                           answer=staff_text(MAX_ANSWER, "The answer"), link=link),
        "QuestionRequest": with_author(["passage", "question"], passage=PASSAGE_ID, question=question),
        "QuestionRemoval": with_author(["passage", "question"], passage=PASSAGE_ID, question={
            "type": "string", "description": "The question exactly as the passage lists it."}),
        "PassageTextRequest": with_author(["passage"], passage={**PASSAGE_ID, "description": (
            "An article's passage id (doc#n), as in a reply's passages.")}, text={
            "anyOf": [{"type": "null"}, staff_text(MAX_PASSAGE, "The passage's new text")],
            "description": "The passage's new text; null or left out: the article's own text again."}),
        "TryRequest": {"type": "object", "required": ["message"], "properties": {
            k: explain["properties"][k] for k in ("message", "previous")}},
        "PublishRequest": with_author([], confirm={"type": "boolean", "default": False, "description": (
            "Publish even when the draft fails evaluation cases the published version passes.")}),
        "RollbackRequest": with_author(["version"], version={"type": "integer", "minimum": 1, "description": (
            "The published version to restore (a copy of it becomes the newest version).")}),
        "EvalSet": {"anyOf": [{"type": "object", "required": ["cases"], "properties": {"cases": ref("EvalSetCases")}},
                              ref("EvalSetCases")]},
        "EvalSetCases": {"type": "array", "minItems": 1, "maxItems": MAX_SET_CASES, "items": ref("EvalCase")},
        "ClinicAnswer": closed({"id": {"type": "string"}, "questions": TEXTS, "answer": {"type": "string"},
                                "link": NULLABLE_STRING}),
        "Draft": closed({"base": INTEGER, "published": INTEGER, "updated": {"type": "number"},
                         "author": {"type": "string"}, "changes": TEXTS, "orphaned_edits": TEXTS,
                         "answers": {"type": "array", "items": ref("ClinicAnswer")}}),
        "Version": closed({"version": {"type": "integer", "minimum": 1}, "created": {"type": "number"},
                           "author": {"type": "string"}, "changes": TEXTS}),
        "KnowledgeOverview": closed({"draft": ref("Draft"), "versions": {"type": "array", "items": ref("Version")}}),
        "VersionList": closed({"versions": {"type": "array", "items": ref("Version")}}),
        "PassageList": closed({"total": INTEGER, "passages": {"type": "array", "maxItems": MAX_SHOWN_PASSAGES,
                                                              "items": closed({
            **strings("id", "doc_id", "title", "text"), "heading": NULLABLE_STRING, "questions": TEXTS,
            "edited": {"type": "boolean"}})}}),
        "AnswerWritten": closed({"id": {"type": "string"}, "draft": ref("Draft")}),
        "DraftChanged": closed({"ok": OK, "draft": ref("Draft")}),
        "TryAnswer": closed({"published": ref("Explanation"), "draft": ref("Explanation")}),
        "Proposals": closed({"message": {"type": "string"}, "candidates": {
            "type": "array", "maxItems": PROPOSALS, "items": closed({
                **strings("passage", "title"), "heading": NULLABLE_STRING,
                "text": {"type": "string", "maxLength": PROPOSAL_TEXT}, "score": {"type": "number"}})}}),
        "Evaluation": closed({
            "sources": TEXTS, "cases": INTEGER, "passed": closed({"published": INTEGER, "draft": INTEGER}),
            "regressions": INTEGER, "improvements": INTEGER, "changed_count": INTEGER,
            "changed": {"type": "array", "maxItems": MAX_SHOWN, "items": closed({
                "question": {"type": "string"}, "kind": {"enum": list(KINDS)}, "set": {"type": "string"},
                "before": outcome, "after": outcome})}}),
        "Published": closed({"version": INTEGER, "published": {"type": "boolean"}, "evaluation": ref("Evaluation"),
                             "message": {"type": "string"}}, required=["version", "published", "evaluation"]),
        "PublishRefused": closed({"error": closed({"code": {"const": "regression"}, "message": {"type": "string"}}),
                                  "evaluation": ref("Evaluation")}),
        "RolledBack": closed({"version": {"type": "integer", "minimum": 1}, "restored": {"type": "integer",
                                                                                       "minimum": 1}}),
        "EvalSets": closed({"sets": {"type": "object", "propertyNames": {"pattern": f"^{SET_NAME}$"},
                                     "additionalProperties": {"type": "integer", "minimum": 1}}}),
        "EvalSetStored": closed({"name": {"type": "string", "pattern": f"^{SET_NAME}$"},
                                 "cases": {"type": "integer", "minimum": 1, "maximum": MAX_SET_CASES}}),
        "Deleted": closed({"ok": OK}),
    }
