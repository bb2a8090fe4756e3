"""Run the real pipeline for staff: one message with its trace, or an evaluation with each failure's."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..knowledge.text import tokenize
from ..answering.conversation import Turn
from .runner import CaseResult, Report, below_thresholds, run_case
from ..answering.pipeline import Bot, Reply, reply_json
from ..answering.retrieval import CANDIDATES

MAX_CASES = 1000  # a console run answers within a request


@dataclass
class Explanation:
    message: str
    reply: Reply
    history: list[Turn]  # the earlier turns the pipeline was given as context
    terms: list[dict]  # each analysed word: surface, term, how it was derived, whether it counted
    makeup: list[dict] = field(default_factory=list)  # what each traced passage's score is made of


def score_makeup(bot: Bot, reply: Reply) -> list[dict]:
    """Take each traced passage's score apart, so the console's numbers add up.

    BM25 = (sum of the terms' contributions) x (1 + variant weight x visitor-question match).
    With the meaning layer on, the score is fuse()'s mix: (1 - w) x BM25 / the best BM25 among
    the candidates x the share of the question BM25 reads (trace.lexical_share)
    + w x the passage's meaning similarity scaled 0..1 over the passages; the
    meaning part is the rest of the score once the BM25 part is taken away (it is w x that
    scaled similarity, to rounding), so the two parts add up to the score exactly.
    """
    trace = reply.trace
    if not trace.hits:
        return []
    index = bot.index
    final, variants = index.ranked(trace.weights, candidates=CANDIDATES) if trace.weights else ({}, {})
    by_id = {index.passages[i].id: (value, variants.get(i, 0.0)) for i, value in final.items()}
    best = max(final.values(), default=0.0)
    fused = bot.understanding is not None
    w = bot.settings.SEMANTIC_WEIGHT
    out = []
    for h in trace.hits:
        bm25, variant = by_id.get(h["id"], (0.0, 0.0))
        row = {"terms": round(sum(h["contributions"].values()), 4), "variant": round(variant, 4),
               "variant_weight": index.variant_weight, "bm25": round(bm25, 4), "fused": fused}
        if fused:
            lexical = bm25 / best if best > 0 else 0.0
            bm25_part = round((1 - w) * lexical * trace.lexical_share, 4)
            meaning_part = round(h["score"] - bm25_part, 4)
            row.update(weight=w, best_bm25=round(best, 4), bm25_scaled=round(lexical, 4), bm25_part=bm25_part,
                       lexical_share=round(trace.lexical_share, 4),
                       meaning_part=meaning_part, meaning_scaled=round(meaning_part / w, 4) if w else 0.0)
        out.append(row)
    return out


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
    return Explanation(message, reply, history, analysed_terms(bot, message, reply), score_makeup(bot, reply))


def trace_json(exp: Explanation) -> dict:
    """Describe why the pipeline replied as it did."""
    trace = asdict(exp.reply.trace)
    for hit, makeup in zip(trace["hits"], exp.makeup):
        hit["makeup"] = makeup
    return {**trace, "terms": exp.terms,
            "context": [{"message": t.message, "type": t.type} for t in exp.history]}


def explanation_json(exp: Explanation, session_id: str | None, contact: dict) -> dict:
    """Give the chat reply exactly as /api/chat shapes it (no turn stored) and its trace."""
    reply = {"session_id": session_id, "reply_id": None, **reply_json(exp.reply), "contact": contact}
    return {"reply": reply, "trace": trace_json(exp)}


def run_eval(bot: Bot, cases: list[dict]) -> Report:
    """Score cases with the engine `faqbot eval` uses."""
    return Report([run_case(bot, c) for c in cases])


def case_explanation(bot: Bot, result: CaseResult) -> Explanation:
    """Explain an evaluated case's last turn (earlier turns shown as its context)."""
    messages = result.case.get("turns") or [result.case["q"]]
    earlier = [Turn(f"earlier-{i}", m, "", {}) for i, m in enumerate(messages[:-1])]
    return Explanation(messages[-1], result.reply, earlier, analysed_terms(bot, messages[-1], result.reply),
                       score_makeup(bot, result.reply))


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
