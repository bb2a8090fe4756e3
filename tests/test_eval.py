"""The evaluation thresholds the project promises, on the shipped evaluation file."""
import json
from pathlib import Path

import pytest

from faqbot.cli import main
from faqbot.config import DEFAULTS
from faqbot.evaluation.runner import below_thresholds, evaluate, file_thresholds


def test_visible_evaluation_meets_the_thresholds(bot):
    report = evaluate(bot, "eval/questions.json")
    assert report.hit1 >= 0.90
    kinds = report.by_kind()
    for kind in ("fallback", "urgent", "smalltalk", "caution", "multi-turn"):
        right, total = kinds[kind]
        assert right == total, (kind, [f.question for f in report.failures()])
    assert below_thresholds(report, DEFAULTS) == []


# Every other set pins its own floors ("thresholds" in the file, written by tools/pin_floors.py at
# what the bot scored when they were last moved, each move said in its commit): eval/dev.json holds
# other phrasings we did not tune on; fresh*.json, visitors_b/c.json, conversations.json,
# conversations2.json, smalltalk_scored.json and safety_scored*.json (three) were written blind and are only scored; visitors_a,
# gate_fit*, safety_fit*, smalltalk_fit* (the meaning layer is fitted on them), caution_fit (the cautions) and conversations_fit (the turn model
# is shaped on it) are fit sets (see docs/blind-sets.md). Overfitting shows here.
PINNED = sorted(str(p) for p in Path("eval").glob("*.json") if p.name != "questions.json")


@pytest.mark.parametrize("path", PINNED)
def test_every_set_holds_its_floors(bot, path):
    floors = file_thresholds(path)
    assert floors, f"{path} pins no floors: run tools/pin_floors.py {path}"
    report = evaluate(bot, path)
    assert below_thresholds(report, DEFAULTS, floors) == [], [(f.question, f.why) for f in report.failures()][:10]


def test_held_out_sets_keep_every_emergency_and_small_talk():
    """The floors of the earlier held-out sets never allow a missed emergency, small talk or caution."""
    for path in ("eval/dev.json", "eval/fresh.json", "eval/fresh2.json", "eval/fresh3.json"):
        kinds = file_thresholds(path)["kinds"]
        assert all(kinds[k] == 1.0 for k in ("urgent", "smalltalk", "caution", "fallback")), path


def test_a_file_without_answer_cases_reports_no_hit_rate(bot, tmp_path):
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"cases": [{"q": "thank you", "kind": "smalltalk"}]}))
    report = evaluate(bot, path)
    assert report.hit1 is None and report.as_dict()["hit@1"] is None


def test_eval_command_reports_and_sets_exit_code(runner, tmp_path, monkeypatch):
    result = runner.invoke(main, ["eval"])
    assert result.exit_code == 0, result.output
    assert "hit@1 1.000" in result.output or "hit@1 0.9" in result.output
    assert "PASSED" in result.output
    monkeypatch.setenv("FAQBOT_EVAL_MIN_HIT1", "1.01")
    failing = runner.invoke(main, ["eval", "eval/questions.json", "--json"])
    assert failing.exit_code == 1
    assert json.loads(failing.output)["misses"][0].startswith("hit@1")


def test_eval_judges_kinds(bot, tmp_path):
    cases = {"cases": [
        {"q": "What is petrissage?", "kind": "answer", "expect": ["no such phrase anywhere"]},
        {"q": "thank you", "kind": "fallback"},
        {"q": "I'm having chemotherapy", "kind": "caution", "expect": ["pregnancy"]},
    ]}
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases))
    report = evaluate(bot, path)
    assert [r.ok for r in report.results] == [False, False, False]
    assert report.hit1 == 0 and report.mrr == 0


def test_cli_eval_names_each_problem_in_a_bad_file(runner, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"cases": [{"q": "what is it?", "kind": "answer"}, {"q": "hi", "kind": "chitchat"}]}')
    result = runner.invoke(main, ["eval", str(bad)])
    assert result.exit_code == 2
    assert "case 1: kind 'answer' needs 'expect'" in result.output and "case 2: 'kind' must be one of" in result.output
