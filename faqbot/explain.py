"""Run the real pipeline for staff: one message with its trace, or an evaluation with each failure's."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from .analysis import tokenize
from .conversation import Turn
from .evaluation import CaseResult, Report, below_thresholds, run_case
from .pipeline import Bot, Reply, reply_json

KINDS = ("answer", "caution", "fallback", "smalltalk", "urgent")
NEEDS_EXPECT = ("answer", "caution")
MAX_CASES = 1000
MAX_TURNS = 10
MAX_PROBLEMS_SHOWN = 10


class EvalFileError(ValueError):
    """An evaluation file staff can fix: each problem says where and what."""

    def __init__(self, problems: list[str]):
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        super().__init__("; ".join(shown) + (f"; and {more} more" if more else ""))
        self.problems = shown + ([f"... and {more} more"] if more else [])


@dataclass
class Explanation:
    message: str
    reply: Reply
    history: list[Turn]  # the earlier turns the pipeline was given as context
    terms: list[dict]  # each analysed word: surface, term, how it was derived, whether it counted


def replay(bot: Bot, messages: list[str], history: list[Turn] | None = None) -> list[Turn]:
    """Extend a conversation's history by answering earlier messages, as an evaluation does."""
    return bot.converse(messages, history)[1]


def analysed_terms(bot: Bot, message: str, reply: Reply) -> list[dict]:
    """Show each word's way into the query: spelling fix, synonym, stem, and whether it counted."""
    trace = reply.trace
    if trace.decision in ("urgent", "smalltalk"):
        return []  # a rule answered before the words were analysed
    fixed_from = {new: old for old, new in trace.corrections.items()}
    corrected = " ".join(trace.corrections.get(t, t) for t in tokenize(message))
    rows = []
    for term in bot.analyzer.terms(corrected):
        if " " in term.surface or bot.analyzer.stem(term.surface) != term.stem:
            how = "synonym"
        else:
            how = "stem" if term.stem != term.surface else "as written"
        if term.surface in trace.ignored:
            status = "ignored: an everyday word the articles never use"
        elif term.stem in trace.own_terms:
            status = "used"
        else:
            status = "dropped with the greeting"
        rows.append({"surface": term.surface, "term": term.stem, "how": how,
                     "corrected_from": fixed_from.get(term.surface), "status": status})
    return rows


def explain(bot: Bot, message: str, history: list[Turn]) -> Explanation:
    """Answer a message as the widget would, without storing anything."""
    reply = bot.reply(message, history)
    return Explanation(message, reply, history, analysed_terms(bot, message, reply))


def trace_json(exp: Explanation) -> dict:
    """Describe why the pipeline replied as it did."""
    return {**asdict(exp.reply.trace), "terms": exp.terms,
            "context": [{"message": t.message, "type": t.type} for t in exp.history]}


def explanation_json(exp: Explanation, session_id: str | None, contact: dict) -> dict:
    """Give the chat reply exactly as /api/chat shapes it (no turn stored) and its trace."""
    reply = {"session_id": session_id, "reply_id": None, **reply_json(exp.reply), "contact": contact}
    return {"reply": reply, "trace": trace_json(exp)}


def _case_problem(case, max_length: int) -> str | None:
    """Say what is wrong with one case, or None."""
    if not isinstance(case, dict):
        return "must be an object like {\"q\": \"...\", \"kind\": \"answer\", \"expect\": [\"...\"]}"
    if case.get("kind") not in KINDS:
        return f"'kind' must be one of {', '.join(KINDS)}"
    if ("q" in case) == ("turns" in case):
        return "needs either 'q' (one question) or 'turns' (a list of messages in one conversation)"
    messages = [case["q"]] if "q" in case else case["turns"]
    if not isinstance(messages, list) or not 0 < len(messages) <= MAX_TURNS:
        return f"'turns' must be a list of 1 to {MAX_TURNS} messages"
    if not all(isinstance(m, str) and m.strip() for m in messages):
        return "every question must be non-empty text"
    if any(len(m) > max_length for m in messages):
        return f"a question is longer than {max_length} characters"
    expect = case.get("expect")
    if case["kind"] in NEEDS_EXPECT and not (
            isinstance(expect, list) and expect and all(isinstance(e, str) and e.strip() for e in expect)):
        return f"kind '{case['kind']}' needs 'expect': a non-empty list of phrases"
    return None


def parse_eval(raw: bytes | str, max_length: int) -> list[dict]:
    """Read evaluation cases in the format of eval/questions.json; raise EvalFileError naming each problem."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise EvalFileError([f"the file is not UTF-8 text (bad byte at offset {exc.start})"]) from None
    if not raw.strip():
        raise EvalFileError(["the file is empty"])
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise EvalFileError([f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"]) from None
    cases = data.get("cases") if isinstance(data, dict) else data
    if not isinstance(cases, list):
        raise EvalFileError(['expected {"cases": [...]}, the format of eval/questions.json'])
    if not cases:
        raise EvalFileError(["there are no cases to run"])
    if len(cases) > MAX_CASES:
        raise EvalFileError([f"{len(cases)} cases is more than the {MAX_CASES} a console run takes"])
    problems = [f"case {i}: {p}" for i, c in enumerate(cases, 1) if (p := _case_problem(c, max_length))]
    if problems:
        raise EvalFileError(problems)
    return cases


def run_eval(bot: Bot, cases: list[dict]) -> Report:
    """Score cases with the engine `faqbot eval` uses."""
    return Report([run_case(bot, c) for c in cases])


def case_explanation(bot: Bot, result: CaseResult) -> Explanation:
    """Explain an evaluated case's last turn (earlier turns shown as its context)."""
    messages = result.case.get("turns") or [result.case["q"]]
    earlier = [Turn(f"earlier-{i}", m, "", {}) for i, m in enumerate(messages[:-1])]
    return Explanation(messages[-1], result.reply, earlier, analysed_terms(bot, messages[-1], result.reply))


def report_json(bot: Bot, report: Report, config) -> dict:
    """Describe a report with each failing case's reply and trace."""
    misses = below_thresholds(report, config)
    failures = []
    for r in report.failures():
        exp = case_explanation(bot, r)
        failures.append({"question": r.question, "turns": r.case.get("turns"), "kind": r.kind,
                         "expect": r.case.get("expect", []), "got": r.reply.type, "rank": r.rank, "why": r.why,
                         "reply": reply_json(r.reply), "trace": trace_json(exp)})
    summary = report.as_dict()
    return {"cases": len(report.results), "hit@1": summary["hit@1"], "hit@3": summary["hit@3"],
            "mrr": summary["mrr"], "by_kind": summary["by_kind"], "passed": not misses, "misses": misses,
            "failures": failures}
