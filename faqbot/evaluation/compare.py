"""Score evaluation cases on the published bot and on a draft, side by side, and say what changed."""
from __future__ import annotations

from ..answering.pipeline import Bot
from .runner import CaseResult, run_case

MAX_SHOWN = 50  # changed cases listed; the counts cover all of them


def _outcome(result: CaseResult) -> dict:
    top = result.reply.passages[0]["id"] if result.reply.passages else None
    return {"ok": result.ok, "type": result.reply.type, "top_passage": top, "why": result.why}


def compare(live: Bot, draft: Bot, cases: list[dict], sources: list[str]) -> dict:
    """Run every case on both bots; a regression is a case the live bot passes and the draft fails."""
    changed, passed_live, passed_draft = [], 0, 0
    for case in cases:
        before, after = run_case(live, case), run_case(draft, case)
        passed_live += before.ok
        passed_draft += after.ok
        if before.ok != after.ok or _outcome(before)["top_passage"] != _outcome(after)["top_passage"]:
            changed.append({"question": before.question, "kind": before.kind, "set": case.get("_set", ""),
                            "before": _outcome(before), "after": _outcome(after)})
    regressions = [c for c in changed if c["before"]["ok"] and not c["after"]["ok"]]
    improvements = [c for c in changed if not c["before"]["ok"] and c["after"]["ok"]]
    # Regressions first: they are what staff must look at before publishing.
    shown = regressions + improvements + [c for c in changed if c not in regressions and c not in improvements]
    return {"sources": sources, "cases": len(cases), "passed": {"published": passed_live, "draft": passed_draft},
            "regressions": len(regressions), "improvements": len(improvements), "changed_count": len(changed),
            "changed": shown[:MAX_SHOWN]}
