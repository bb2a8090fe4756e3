"""Staff's edits to the knowledge, as pure functions: each takes a Knowledge and returns a new one.

Every check on staff's text is here, so the JSON API and the console refuse the same things with
the same words. Text is kept as typed (whitespace tidied): it is escaped where it is shown.
"""
from __future__ import annotations

import re
from dataclasses import replace

from .content import (CLINIC_DOC, MAX_ANSWER, MAX_ANSWERS, MAX_LINK, MAX_PASSAGE, MAX_QUESTION, MAX_QUESTIONS,
                      ClinicAnswer, Knowledge, PassageEdit, article_passages, new_answer_id)

# A page of the clinic's site, absolute: a reply's sources are read on the clinic's pages, where a path
# would resolve against the wrong site (and the API's schema for a source's url allows no other path).
LINK = re.compile(r"https?://[^\s<>\"'`]+", re.I)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class EditError(ValueError):
    """An edit refused: `code` for the API (invalid_field, not_found), the message for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def tidy(value: str) -> str:
    """Control characters and runs of whitespace become one space; the ends are trimmed."""
    return " ".join(CONTROL.sub(" ", value).split())


def clean_text(value, name: str, limit: int) -> str:
    value = tidy(value) if isinstance(value, str) else ""
    if not value:  # blank once tidied: "\x00" is as empty as "  "
        raise EditError("invalid_field", f"The field '{name}' must be text that is not blank.")
    if len(value) > limit:
        raise EditError("invalid_field", f"The field '{name}' must be at most {limit} characters.")
    return value


def clean_questions(value) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [line for line in value.splitlines() if tidy(line)]  # the console's one-per-line box
    if not isinstance(value, list) or not value or len(value) > MAX_QUESTIONS:
        raise EditError("invalid_field", f"The field 'questions' must list 1 to {MAX_QUESTIONS} questions.")
    out: list[str] = []
    for q in value:
        q = clean_text(q, "questions", MAX_QUESTION)
        if q.lower() not in (o.lower() for o in out):
            out.append(q)
    return tuple(out)


def clean_link(value) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value) > MAX_LINK or not LINK.fullmatch(value.strip()):
        raise EditError("invalid_field", "The field 'link' must be an http:// or https:// address, "
                        f"of at most {MAX_LINK} characters.")
    return value.strip()


def add_answer(knowledge: Knowledge, questions, answer, link=None) -> tuple[Knowledge, str]:
    """Add a clinic answer; return the new knowledge and the answer's id."""
    if len(knowledge.answers) >= MAX_ANSWERS:
        raise EditError("invalid_field", f"There are {MAX_ANSWERS} clinic answers already; edit or delete one.")
    qs = clean_questions(questions)
    new = ClinicAnswer(new_answer_id(knowledge, qs), qs, clean_text(answer, "answer", MAX_ANSWER), clean_link(link))
    return replace(knowledge, answers=(*knowledge.answers, new)), new.id


def _answer(knowledge: Knowledge, answer_id: str) -> ClinicAnswer:
    found = next((a for a in knowledge.answers if a.id == answer_id), None)
    if found is None:
        raise EditError("not_found", f"There is no clinic answer '{answer_id}' in the draft.")
    return found


def update_answer(knowledge: Knowledge, answer_id: str, questions, answer, link=None) -> Knowledge:
    _answer(knowledge, answer_id)
    new = ClinicAnswer(answer_id, clean_questions(questions), clean_text(answer, "answer", MAX_ANSWER),
                       clean_link(link))
    return replace(knowledge, answers=tuple(new if a.id == answer_id else a for a in knowledge.answers))


def delete_answer(knowledge: Knowledge, answer_id: str) -> Knowledge:
    _answer(knowledge, answer_id)
    return replace(knowledge, answers=tuple(a for a in knowledge.answers if a.id != answer_id))


def _passage(knowledge: Knowledge, passage_id):
    if not isinstance(passage_id, str) or not passage_id:
        raise EditError("invalid_field", "The field 'passage' must be a passage id (as in a reply's passages).")
    found = next((p for p in article_passages(knowledge) if p.id == passage_id), None)
    if found is None:
        raise EditError("not_found", f"There is no passage '{passage_id}' in the draft.")
    return found


def attach_question(knowledge: Knowledge, target, question) -> Knowledge:
    """Add a visitor's wording to a passage or a clinic answer (`target` is its passage id)."""
    question = clean_text(question, "question", MAX_QUESTION)
    if isinstance(target, str) and target.startswith(f"{CLINIC_DOC}#"):
        a = _answer(knowledge, target.split("#", 1)[1])
        if question.lower() in (q.lower() for q in a.questions):
            return knowledge
        return update_answer(knowledge, a.id, [*a.questions, question], a.answer, a.link)
    p = _passage(knowledge, target)
    if question.lower() in (q.lower() for q in p.questions):
        return knowledge
    if len(p.questions) >= MAX_QUESTIONS * 2:
        raise EditError("invalid_field", f"Passage '{target}' has {len(p.questions)} questions already.")
    edit = knowledge.edits.get(target, PassageEdit())
    removed = tuple(q for q in edit.removed if q.lower() != question.lower())
    added = edit.added if removed != edit.removed else (*edit.added, question)
    return _with_edit(knowledge, target, replace(edit, added=added, removed=removed))


def remove_question(knowledge: Knowledge, target, question) -> Knowledge:
    """Take a visitor question off a passage or a clinic answer (its last one cannot go)."""
    if not isinstance(question, str):
        raise EditError("invalid_field", "The field 'question' must be text.")
    if isinstance(target, str) and target.startswith(f"{CLINIC_DOC}#"):
        a = _answer(knowledge, target.split("#", 1)[1])
        rest = [q for q in a.questions if q != question]
        if len(rest) == len(a.questions):
            raise EditError("not_found", f"Clinic answer '{a.id}' has no question {question!r}.")
        if not rest:
            raise EditError("invalid_field", "A clinic answer needs at least one question; delete the answer instead.")
        return update_answer(knowledge, a.id, rest, a.answer, a.link)
    p = _passage(knowledge, target)
    if question not in p.questions:
        raise EditError("not_found", f"Passage '{target}' has no question {question!r}.")
    edit = knowledge.edits.get(target, PassageEdit())
    if question in edit.added:
        edit = replace(edit, added=tuple(q for q in edit.added if q != question))
    else:
        edit = replace(edit, removed=(*edit.removed, question))
    return _with_edit(knowledge, target, edit)


def edit_text(knowledge: Knowledge, target, text) -> Knowledge:
    """Replace a passage's text (None: back to the article's own)."""
    _passage(knowledge, target)
    edit = knowledge.edits.get(target, PassageEdit())
    new = None if text is None else clean_text(text, "text", MAX_PASSAGE)
    return _with_edit(knowledge, target, replace(edit, text=new))


def _with_edit(knowledge: Knowledge, passage_id: str, edit: PassageEdit) -> Knowledge:
    edits = dict(knowledge.edits)
    if edit == PassageEdit():
        edits.pop(passage_id, None)  # nothing left of it: the article's own passage again
    else:
        edits[passage_id] = edit
    return replace(knowledge, edits=edits)
