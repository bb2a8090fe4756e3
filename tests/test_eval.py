"""The evaluation thresholds the project promises, on the shipped evaluation file."""
import json

import pytest

from faqbot.cli import main
from faqbot.config import DEFAULTS
from faqbot.evaluation.runner import below_thresholds, evaluate


def test_visible_evaluation_meets_the_thresholds(bot):
    report = evaluate(bot, "eval/questions.json")
    assert report.hit1 >= 0.90
    kinds = report.by_kind()
    for kind in ("fallback", "urgent", "smalltalk", "caution", "multi-turn"):
        right, total = kinds[kind]
        assert right == total, (kind, [f.question for f in report.failures()])
    assert below_thresholds(report, DEFAULTS) == []


# eval/dev.json holds other phrasings we did not tune on; eval/fresh*.json were written without seeing
# the bot (fresh3 was run once, held out). The floors are what each scores now, so overfitting shows here.
@pytest.mark.parametrize("path, hit1, hit3", [("eval/dev.json", 0.96, 0.99), ("eval/fresh.json", 0.83, 0.97),
                                              ("eval/fresh2.json", 0.94, 0.97), ("eval/fresh3.json", 0.87, 0.87)])
def test_other_sets_do_not_regress(bot, path, hit1, hit3):
    report = evaluate(bot, path)
    kinds = report.by_kind()
    assert report.hit1 >= hit1 and report.hit3 >= hit3
    for kind in ("urgent", "smalltalk", "caution", "fallback"):
        assert kinds[kind][0] == kinds[kind][1], kind


def test_adversarial_off_topic_questions_do_not_regress(bot):
    # Off-topic questions in the articles' own words: the bot still answers 11 of 24 (see README).
    right, total = evaluate(bot, "eval/adversarial.json").by_kind()["fallback"]
    assert right >= 13 and total == 24


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
