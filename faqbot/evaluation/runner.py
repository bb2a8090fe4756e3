"""Run an evaluation file through the real pipeline and score it."""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..answering.pipeline import Bot, Reply

DOCTOR_WORDS = ("doctor", "gp", "midwife", "pharmacist", "surgeon", "oncologist", "care team")
KINDS = ("answer", "caution", "fallback", "safe", "smalltalk", "urgent")
NEEDS_EXPECT = ("answer", "caution")
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
class CaseResult:
    case: dict
    kind: str
    ok: bool
    rank: int | None  # 1-based rank of the first passage with an expected phrase (answer cases)
    reply: Reply
    why: str = ""

    @property
    def question(self) -> str:
        return self.case.get("q") or " / ".join(self.case.get("turns", []))


@dataclass
class Report:
    results: list[CaseResult] = field(default_factory=list)

    def _answers(self) -> list[CaseResult]:
        return [r for r in self.results if r.kind == "answer"]

    # None when the file has no answer cases: there is nothing to measure, not a perfect score.
    @property
    def hit1(self) -> float | None:
        a = self._answers()
        return sum(r.rank == 1 for r in a) / len(a) if a else None

    @property
    def hit3(self) -> float | None:
        a = self._answers()
        return sum(r.rank is not None and r.rank <= 3 for r in a) / len(a) if a else None

    @property
    def mrr(self) -> float | None:
        a = self._answers()
        return sum(1 / r.rank for r in a if r.rank) / len(a) if a else None

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """Return kind -> (right, total); multi-turn cases are also counted as 'multi-turn'."""
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in self.results:
            kinds = [r.kind] + (["multi-turn"] if "turns" in r.case else [])
            for k in kinds:
                out[k][0] += r.ok
                out[k][1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}

    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if not r.ok]

    def as_dict(self) -> dict:
        return {
            **{name: None if value is None else round(value, 4)
               for name, value in (("hit@1", self.hit1), ("hit@3", self.hit3), ("mrr", self.mrr))},
            "by_kind": {k: {"right": a, "total": b} for k, (a, b) in self.by_kind().items()},
            "failures": [{"question": f.question, "kind": f.kind, "got": f.reply.type, "why": f.why}
                         for f in self.failures()],
        }


def squash(text: str) -> str:
    """Lower-case and collapse whitespace, as the evaluation file specifies."""
    return " ".join(text.lower().split())


def contains_any(text: str, phrases: list[str]) -> bool:
    t = squash(text)
    return any(squash(p) in t for p in phrases)


def run_case(bot: Bot, case: dict) -> CaseResult:
    """Send a case's turns in one conversation and judge the last reply."""
    reply, _ = bot.converse(case.get("turns") or [case["q"]])
    kind = case["kind"]
    rank, why = None, ""
    if kind == "answer":
        rank = next((i for i, p in enumerate(reply.passages, 1) if contains_any(p["text"], case["expect"])), None)
        ok = reply.type == "answer" and rank == 1
        why = "" if ok else f"type={reply.type}, expected phrase at rank {rank}"
    elif kind == "caution":
        caution = reply.caution or ""
        ok = (reply.type in ("answer", "fallback") and contains_any(caution, case["expect"])
              and any(re.search(rf"\b{w}\b", caution.lower()) for w in DOCTOR_WORDS))
        why = "" if ok else f"type={reply.type}, caution={caution[:80]!r}"
    elif kind == "safe":  # a harmless lookalike of a red flag: anything but an emergency reply
        ok = reply.type != "urgent"
        why = "" if ok else "a false alarm: type=urgent"
    else:
        ok = reply.type == kind and (kind != "fallback" or not reply.passages)
        why = "" if ok else f"type={reply.type}"
    return CaseResult(case, kind, ok, rank, reply, why)


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


def parse_eval(raw: bytes | str, max_length: int, max_cases: int | None = None) -> list[dict]:
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
    except ValueError as exc:  # a number with more digits than int() takes
        raise EvalFileError([f"not valid JSON: {exc}"]) from None
    except RecursionError:
        raise EvalFileError(["not valid JSON: nested too deeply"]) from None
    cases = data.get("cases") if isinstance(data, dict) else data
    if not isinstance(cases, list):
        raise EvalFileError(['expected {"cases": [...]}, the format of eval/questions.json'])
    if not cases:
        raise EvalFileError(["there are no cases to run"])
    if max_cases is not None and len(cases) > max_cases:
        raise EvalFileError([f"{len(cases)} cases is more than the {max_cases} a console run takes"])
    problems = [f"case {i}: {p}" for i, c in enumerate(cases, 1) if (p := _case_problem(c, max_length))]
    if problems:
        raise EvalFileError(problems)
    return cases


def evaluate(bot: Bot, path: str | Path, max_length: int = 1000) -> Report:
    """Run every case of an evaluation file; raises EvalFileError naming each problem in it."""
    return Report([run_case(bot, c) for c in parse_eval(Path(path).read_bytes(), max_length)])


def file_thresholds(path: str | Path) -> dict | None:
    """The floors an evaluation file pins for itself ("thresholds"), or None to use the configuration's."""
    data = json.loads(Path(path).read_text("utf-8-sig"))
    return data.get("thresholds") if isinstance(data, dict) else None


def below_thresholds(report: Report, config, thresholds: dict | None = None) -> list[str]:
    """Name each threshold the report misses: the file's own floors when given, else the configured ones.

    A file's floors: {"hit@1": x, "hit@3": y, "kinds": {kind: least share right}}; the configured ones
    ask EVAL_MIN_KIND_ACCURACY of every kind but answer.
    """
    if thresholds is None:
        thresholds = {"hit@1": config["EVAL_MIN_HIT1"], "hit@3": config["EVAL_MIN_HIT3"],
                      "kinds": {k: config["EVAL_MIN_KIND_ACCURACY"] for k in report.by_kind() if k != "answer"}}
    misses = []
    for name, value in (("hit@1", report.hit1), ("hit@3", report.hit3)):
        if value is not None and name in thresholds and value < thresholds[name]:
            misses.append(f"{name} {value:.3f} < {thresholds[name]}")
    by_kind = report.by_kind()
    for kind, least in thresholds.get("kinds", {}).items():
        right, total = by_kind.get(kind, (0, 0))
        if total and right / total < least:
            misses.append(f"{kind} accuracy {right}/{total} < {least}")
    return misses
