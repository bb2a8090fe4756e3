"""The words that carry a question and whether the top passage covers them: issue #14's answerability
check, shown in the staff trace (the gate does not read it: measured, it gained nothing)."""
import pytest

from faqbot.answering.carrying import Carrying, filler, readable_share, reason
from faqbot.answering.understanding import GATE_FEATURES, fitted
from faqbot.cli import main
from faqbot.evaluation.explain import score_makeup


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
    assert trace.coverage == "the top passage does not cover 'drink', 'water'"


def test_a_question_in_the_articles_words_is_covered_whole(bot):
    words, trace = carrying(bot, "Can remedial massage help with back pain?")
    assert set(words) == {"remedial", "massage", "help", "back", "pain"}
    assert trace.coverage == "the top passage covers every carrying word"


def test_a_message_that_never_reaches_the_gate_is_not_checked(bot):
    words, trace = carrying(bot, "hi, do you offer couples massage")
    assert trace.decision == "fallback" and trace.coverage == "" and not any(w.covered for w in words.values())


def test_covering_them_costs_no_embedding(bot, monkeypatch):
    """Only the message's own vector: the carrying words are covered by the passage's words alone."""
    embedder = bot.understanding.meaning.embedder
    batches = []
    real = embedder.embed
    monkeypatch.setattr(embedder, "embed", lambda texts: (batches.append(list(texts)), real(texts))[1])
    bot.reply("could a massage before my kayak race loosen my forearms or is a sauna better")
    assert len(batches) == 1


def test_the_reason_names_what_is_left_heaviest_first():
    words = [Carrying("water", ("water",), 2.0), Carrying("massage", ("massag",), 0.5, "by its words"),
             Carrying("drink", ("drink",), 1.5)]
    assert reason(words) == "the top passage does not cover 'water', 'drink'"
    assert {"exactly", "honestly", "lol"} <= filler()  # "please" is a stopword already


def test_the_gate_does_not_read_them_and_reports_its_cross_validated_errors(bot):
    gate = fitted()["gate"]
    assert gate["features"] == list(GATE_FEATURES) and not {"uncovered", "heaviest"} & set(GATE_FEATURES)
    assert set(gate["cross_validated"]) == {"answerable_falling_back", "unanswerable_answered"}


def test_ask_explain_shows_the_carrying_words_and_what_is_not_covered(runner):
    why = runner.invoke(main, ["ask", "--explain", "should I drink water after a massage?"]).output.split("--- why ---", 1)[1]
    assert "carrying     drink 2.51 (not covered), water 2.51 (not covered), massage" in why
    assert "coverage     the top passage does not cover 'drink', 'water'" in why


def test_bm25_ranks_with_the_share_of_the_question_it_reads(bot):
    """BM25 that read one everyday word of a question does not outvote meaning as if it had read it all."""
    words = [Carrying("help", ("help",), 0.2), Carrying("unwind", ("zzunwind",), 1.8)]
    assert readable_share(words, bot.index) == pytest.approx(0.1)
    assert readable_share([], bot.index) == 1.0
    reply = bot.reply("would it help me feel less frazzled")  # BM25 reads "help", "feel"; meaning: stress
    assert reply.trace.lexical_share < 1 and "stress" in reply.trace.hits[0]["text"].lower()
    whole = bot.reply("Can remedial massage help with back pain?")
    assert whole.trace.lexical_share == 1.0  # a question in the articles' words ranks as before
    # The console's parts still add up: BM25's part is scaled by the share.
    rows = score_makeup(bot, reply)
    assert all(r["lexical_share"] == round(reply.trace.lexical_share, 4) for r in rows)
    assert all(r["bm25_part"] <= (1 - r["weight"]) * r["bm25_scaled"] * r["lexical_share"] + 1e-4 for r in rows)
