"""The words that carry a question and whether the top passage covers them: issue #14's answerability
check, read by #23's fitted answer gate and shown in the staff trace."""
import pytest

from faqbot.answering.carrying import Carrying, filler, gate_features, reason
from faqbot.answering.understanding import GATE_FEATURES, fitted
from faqbot.cli import main


def carrying(bot, message):
    trace = bot.reply(message).trace
    return {w.word: w for w in trace.carrying}, trace


@pytest.mark.parametrize("message, words", [
    # Everyday words the corpus never uses are set aside by BM25, not here: they may be the point.
    ("should I drink water after a massage?", ["drink", "water", "massage"]),
    # Stopwords, hedges and politeness carry nothing.
    ("what exactly is remedial massage, please?", ["remedial", "massage"]),
    ("lol wat is remedial massage tbh", ["remedial", "massage"]),
    ("hi, do you offer couples massage", ["offer", "couples", "massage"]),
    ("I'm always anxious, would a massage help?", ["anxious", "massage", "help"]),
])
def test_the_words_that_carry_a_question(bot, message, words):
    assert list(carrying(bot, message)[0]) == words


def test_a_misspelt_word_counts_as_its_correction_and_a_synonym_as_the_articles_words(bot):
    words, trace = carrying(bot, "can remedial masage help my sore back")
    assert trace.corrections == {"masage": "massage"}
    assert words["massage"].terms == ("massag",) and words["sore"].terms == ("pain",)
    assert all(w.covered == "by its words" for w in words.values())
    assert carrying(bot, "will the therapist talk to my GP")[0]["gp"].terms == ("doctor",)


def test_words_the_top_passage_does_not_cover_are_named_in_the_trace(bot):
    words, trace = carrying(bot, "should I drink water after a massage?")
    assert words["massage"].covered == "by its words"
    assert words["drink"].covered == words["water"].covered == ""
    assert words["water"].meaning is not None and words["water"].meaning < fitted()["gate"]["word_cover"]
    assert trace.coverage == "the top passage does not cover 'drink', 'water'"
    assert trace.features["uncovered"] > 0.9 and trace.features["heaviest"] == pytest.approx(0.7)


def test_a_question_in_the_articles_words_is_covered_whole(bot):
    words, trace = carrying(bot, "Can remedial massage help with back pain?")
    assert set(words) == {"remedial", "massage", "help", "back", "pain"}
    assert trace.coverage == "the top passage covers every carrying word"
    assert trace.features["uncovered"] == trace.features["heaviest"] == 0.0


def test_meaning_covers_a_word_near_the_passage(bot):
    words, trace = carrying(bot, "will the therapist talk to my GP")
    assert words["therapist"].covered.startswith("by meaning ")
    assert words["therapist"].meaning >= fitted()["gate"]["word_cover"]


def test_a_message_that_never_reaches_the_gate_is_not_checked(bot):
    words, trace = carrying(bot, "hi, do you offer couples massage")
    assert trace.decision == "fallback" and trace.coverage == "" and not any(w.covered for w in words.values())


def test_the_words_left_are_embedded_in_one_batch_and_cached(bot, monkeypatch):
    embedder = bot.understanding.meaning.embedder
    batches = []
    real = embedder.embed
    monkeypatch.setattr(embedder, "embed", lambda texts: (batches.append(list(texts)), real(texts))[1])
    message = "could a massage before my kayak race loosen my forearms or is a sauna better"
    bot.reply(message)
    words = [w.word for w in bot.reply(message).trace.carrying if w.meaning is not None]
    assert len(words) >= 2 and words in batches[1:]  # after the message's own vector: one batch, once
    assert len(batches) == 2  # the second time, everything is cached


def test_features_and_reason_of_what_is_left():
    words = [Carrying("water", ("water",), 2.0), Carrying("massage", ("massag",), 0.5, "by its words"),
             Carrying("drink", ("drink",), 1.5)]
    assert gate_features(words, 4.0) == {"uncovered": round(3.5 / 4.0, 4), "heaviest": 0.5}
    assert reason(words) == "the top passage does not cover 'water', 'drink'"
    assert gate_features([], 4.0) == {"uncovered": 0.0, "heaviest": 0.0}
    assert {"exactly", "honestly", "lol"} <= filler()  # "please" is a stopword already


def test_the_gate_reads_them_as_fitted(bot):
    gate = fitted()["gate"]
    assert gate["features"] == list(GATE_FEATURES) and {"uncovered", "heaviest"} <= set(GATE_FEATURES)
    assert 0 < gate["word_cover"] < 1 and set(gate["cross_validated"]) == {"answerable_falling_back", "unanswerable_answered"}


def test_ask_explain_shows_the_carrying_words_and_what_is_not_covered(runner):
    why = runner.invoke(main, ["ask", "--explain", "should I drink water after a massage?"]).output.split("--- why ---", 1)[1]
    assert "carrying     drink 2.51 (not covered), water 2.51 (not covered), massage" in why
    assert "coverage     the top passage does not cover 'drink', 'water'" in why
