"""Fit the meaning layer on labelled data (`faqbot fit`): its parameters become data, not hand-set numbers.

- the red-flag scorer: nearness to the red-team fit sets' red flags against nearness to their
  harmless lookalikes and the fit files' visitor questions; its threshold is the lowest whose
  false alarms, each red-team set held out in turn, stay within budget; a stricter one for a red
  flag in one sentence of a longer message, fitted on the fit sets outside the bank;
- the small-talk and clinic-topic margins (how much closer than any passage an example must be):
  the lowest that takes no question of another kind in the fit files (a swallowed question is
  worse than a missed "thanks");
- the small-talk model, for what no example is near enough to (fit_smalltalk.py);
- the answer gate: logistic regression over GATE_FEATURES, answerable against unanswerable
  questions of the fit files.
Only the files named are read; sets kept for scoring must never be passed here.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..answering.pipeline import Bot
from ..answering.screening import WINDOW_TURNS
from ..answering.redflags import nearness
from ..answering.understanding import GATE_FEATURES
from .fit_smalltalk import fit_smalltalk
from .logistic import logistic_fit, probabilities
from .runner import parse_eval

DATA = Path(__file__).resolve().parent.parent / "data"
FOLDS = 5


def write_bank(paths: list[Path], out: Path = DATA, questions: list[Path] = ()) -> tuple[list[dict], list[int]]:
    """Copy red-team fit sets into the shipped bank: (category or "harmless", text) examples.

    The visitor questions of the question fit files (all but their red flags) follow as harmless
    examples: no question about massage should sit nearer the red flags than the harmless.
    Returns the examples and how many each red-team set gave (they come first, set by set).
    """
    sets = [parse_eval(path.read_bytes(), max_length=10_000) for path in paths]
    cases = [c for one in sets for c in one]
    examples = [{"label": c.get("category") or "red_flag" if c["kind"] == "urgent" else "harmless",
                 "text": " ".join(c["turns"]) if "turns" in c else c["q"]} for c in cases]
    seen = {e["text"] for e in examples}
    for path in questions:
        for c in parse_eval(path.read_bytes(), max_length=10_000):
            text = " ".join(c["turns"]) if "turns" in c else c["q"]
            if c["kind"] != "urgent" and text not in seen:
                seen.add(text)
                examples.append({"label": "harmless", "text": text})
    bank = {"about": "Red-flag examples by category, and harmless lookalikes, for the safety gate's meaning layer "
                     "(faqbot/answering/redflags.py). Written by `faqbot fit` from red-team sets written blind "
                     "for fitting (multi-turn cases as their turns read together; cautions count as harmless), "
                     "then the question fit sets' visitor questions as harmless.",
            "source": [path.name for path in paths], "questions": [path.name for path in questions],
            "examples": examples}
    (out / "safety_bank.json").write_text(json.dumps(bank, indent=1, ensure_ascii=False) + "\n", "utf-8")
    return examples, [len(one) for one in sets]


def fit_safety(bot: Bot, max_false_alarm: float, sizes: list[int], ks: tuple[int, ...] = (3, 5, 7, 10)) -> dict:
    """Choose the red-flag scorer's neighbours and threshold, each red-team set held out in turn.

    A held-out set's messages are scored against the other sets' examples (and every visitor
    question as harmless): the threshold is the lowest whose false alarms on the held-out
    lookalikes stay within budget, and k the number of neighbours that then catches most red flags.
    Held out by set, not at random: a set's writer repeats her own phrasings, which random folds
    would reward.
    """
    u = bot.understanding
    vectors = u.red_flags.bank.vectors
    red = np.array([label != "harmless" for label in u.red_flags.bank.labels], bool)
    group = np.full(len(vectors), -1)  # -1: a visitor question, never held out
    for g, (start, size) in enumerate(zip(np.cumsum([0, *sizes[:-1]]), sizes)):
        group[start:start + size] = g
    scored = group >= 0
    best = None
    for k in ks:
        held = np.zeros(len(vectors))
        for g in range(len(sizes)):
            out, train = group == g, group != g
            held[out] = (nearness(vectors[out] @ vectors[train & red].T, k)
                         - nearness(vectors[out] @ vectors[train & ~red].T, k))
        harmless = np.sort(held[scored & ~red])
        allowed = int(np.floor(max_false_alarm * len(harmless)))
        threshold = float(harmless[-allowed - 1]) + 1e-6 if allowed < len(harmless) else 0.0
        recall = float((held[scored & red] >= threshold).mean())
        if best is None or recall > best[1]:
            best = (k, recall, float((held[scored & ~red] >= threshold).mean()), threshold)
    k, recall, false_alarms, threshold = best
    return {"method": "nearest neighbours", "k": k, "threshold": round(threshold, 6),
            "cross_validated": {"held_out": "one red-team set at a time", "recall": round(recall, 4),
                                "false_alarms": round(false_alarms, 4)}}


def fit_sentences(bot: Bot, cases: list[dict], max_false_alarm: float, floor: float) -> dict:
    """The stricter threshold for a red flag found in one sentence of a longer message.

    Fitted on messages whose texts are not in the bank (the red-team and conversation fit sets
    outside it), so no sentence is scored against its own message: the lowest threshold whose
    false alarms on their harmless cases (the last message and the turns the screen reads with it)
    with such sentences stay within budget, and never below the whole message's."""
    u = bot.understanding
    harmless, red = [], []
    for case in cases:
        parts = bot.screen.telling(*reversed(case["turns"][-1 - WINDOW_TURNS:] if "turns" in case else [case["q"]]))
        if parts:
            best = max(u.red_flags.score(v) for v in u.meaning.queries(parts))
            (red if case["kind"] == "urgent" else harmless).append(best)
    scores = np.sort(harmless)
    allowed = int(np.floor(max_false_alarm * len(scores)))
    threshold = max(float(scores[-allowed - 1]) + 1e-6 if allowed < len(scores) else floor, floor)
    return {"sentence_threshold": round(threshold, 6),
            "sentences_fitted": {"harmless": len(harmless), "red_flags": len(red),
                                 "red_flags_found": int((np.array(red) >= threshold).sum())}}


def lowest_clean_margin(negative: list[float]) -> float:
    """The lowest margin above every negative's (so none is taken), and never below 0.1."""
    return round(max([0.1, *(n + 0.005 for n in negative)]), 4)


def fit_intents(bot: Bot, cases: list[dict]) -> dict:
    """Margins for small talk (against every other kind) and clinic topics (against answerable)."""
    u = bot.understanding
    negatives: dict[str, list[float]] = {"smalltalk_min": [], "topic_min": []}
    for case in cases:
        if "q" not in case:
            continue
        vec = u.meaning.query(case["q"])
        best = float(u.index.similarities(vec).max())
        for key, bank, negative in (("smalltalk_min", u.smalltalk, lambda k: k != "smalltalk"),
                                    ("topic_min", u.topics, lambda k: k in ("answer", "caution"))):
            near = bank.nearest(vec)
            if near is not None and negative(case["kind"]):
                negatives[key].append(near.similarity - best)
    return {key: lowest_clean_margin(values) for key, values in negatives.items()}


def gate_threshold(p: np.ndarray, y: np.ndarray, lexical: np.ndarray) -> float:
    """The threshold that makes the two errors' rates smallest together (the targets weigh them
    alike): answerable questions falling back, unanswerable ones answered."""
    candidates = np.unique(np.r_[p, 0.5])
    cost = [((~lexical & (p < t)) & (y == 1)).sum() / max(y.sum(), 1)
            + ((lexical | (p >= t)) & (y == 0)).sum() / max((1 - y).sum(), 1) for t in candidates]
    best = np.flatnonzero(np.isclose(cost, min(cost)))
    return float(candidates[best[len(best) // 2]])


def error_rates(answered: np.ndarray, y: np.ndarray) -> dict[str, float]:
    return {"answerable_falling_back": round(float((~answered & (y == 1)).sum() / max(y.sum(), 1)), 4),
            "unanswerable_answered": round(float((answered & (y == 0)).sum() / max((1 - y).sum(), 1)), 4)}


def cross_validated(X: np.ndarray, y: np.ndarray, lexical: np.ndarray, l2: float) -> dict[str, float]:
    """Both error rates of the combined gate on questions each fold's fit did not see (5 folds)."""
    answered = np.zeros(len(y), bool)
    for fold in np.array_split(np.random.default_rng(0).permutation(len(y)), FOLDS):
        train = np.setdiff1d(np.arange(len(y)), fold)
        w, b = logistic_fit(X[train], y[train], l2)
        t = gate_threshold(probabilities(w, b, X[train]), y[train], lexical[train])
        answered[fold] = lexical[fold] | (probabilities(w, b, X[fold]) >= t)
    return error_rates(answered, y)


def fit_gate(bot: Bot, cases: list[dict], l2: float = 0.1) -> dict:
    """Fit the answer gate on answerable (1) and unanswerable (0) single questions.

    The gate answers when BM25's own confidence reaches CONFIDENCE_THRESHOLD (the lexical gate the
    pinned sets were built with) or when the fitted probability reaches its threshold: meaning
    adds answers words alone miss, and its threshold is chosen for that combined decision. Both
    error rates are also cross-validated (5 folds) and stored, for questions the fit did not see.
    """
    lexical_threshold = bot.settings.CONFIDENCE_THRESHOLD
    rows, labels = [], []
    for case in cases:
        if "q" not in case or case["kind"] not in ("answer", "fallback"):
            continue
        reply = bot.reply(case["q"])
        if reply.trace.features:  # it reached the gate (not small talk, an urgent or a clinic topic)
            rows.append([reply.trace.features[f] for f in GATE_FEATURES])
            labels.append(case["kind"] == "answer")
    X, y = np.array(rows), np.array(labels, float)
    lexical = X[:, GATE_FEATURES.index("bm25")] >= lexical_threshold
    w, b = logistic_fit(X, y, l2)
    threshold = gate_threshold(probabilities(w, b, X), y, lexical)
    answered = lexical | (probabilities(w, b, X) >= threshold)
    return {"features": list(GATE_FEATURES), "weights": [round(float(x), 6) for x in w], "bias": round(b, 6),
            "threshold": round(threshold, 6), "or_lexical": lexical_threshold, "l2": l2, "fitted_cases": len(y),
            "fit_errors": {"answerable_falling_back": int((~answered & (y == 1)).sum()),
                           "unanswerable_answered": int((answered & (y == 0)).sum())},
            "cross_validated": cross_validated(X, y, lexical, l2)}


def fit_all(bot_factory, files: list[Path], safety_files: list[Path], max_false_alarm: float = 0.01,
            out: Path = DATA, smalltalk_files: list[Path] = ()) -> dict:
    """Fit everything and write fitted.json and safety_bank.json (to faqbot/data); bot_factory(params) builds a bot.

    The small-talk model reads every file named (smalltalk_files only it reads)."""
    examples, sizes = write_bank(safety_files, out, files)
    bot = bot_factory({})
    if bot.understanding is None:
        raise RuntimeError("the semantic model is off or unavailable: nothing to fit")
    if bot.understanding.red_flags.bank.texts != [e["text"] for e in examples]:  # fit_safety holds sets out by position
        raise RuntimeError("the bot's red-flag bank is not the one these sets make: fit into faqbot/data")
    parsed = {f.name: parse_eval(f.read_bytes(), max_length=10_000) for f in [*files, *safety_files, *smalltalk_files]}
    cases = [c for f in files for c in parsed[f.name]]
    params: dict = {"safety": fit_safety(bot, max_false_alarm, sizes)}
    outside = [c for f in smalltalk_files for c in parsed[f.name]]  # none of their texts is in the bank
    params["safety"].update(fit_sentences(bot, outside, max_false_alarm, params["safety"]["threshold"]))
    params.update(fit_intents(bot, cases))
    params["smalltalk"] = fit_smalltalk(bot, parsed)
    params["gate"] = fit_gate(bot_factory({k: v for k, v in params.items() if k != "gate"}), cases)
    params["fitted"] = {"on": [f.name for f in files], "safety": [f.name for f in safety_files],
                        "smalltalk": [f.name for f in smalltalk_files],
                        "model": bot.understanding.meaning.checksum, "date": time.strftime("%Y-%m-%d")}
    (out / "fitted.json").write_text(json.dumps(params, indent=1) + "\n", "utf-8")
    return params
