"""The turn model: how a message relates to its conversation (answering/turns.py), how the
pipeline uses the history only as that decision says, and the decision in the staff trace."""
import dataclasses

import pytest
from staff_fixtures import Console, api, console, staff_app  # noqa: F401

from faqbot.answering.conversation import Turn
from faqbot.answering.turns import KINDS, decide, pointers
from faqbot.cli import main

SCIATICA = Turn("1", "will remedial massage help my sciatica?", "answer",
                {"remedi": 1.0, "massag": 1.0, "help": 1.0, "sciatica": 1.0})
POSTURE = Turn("1", "can massage help my posture", "answer", {"massag": 1.0, "help": 1.0, "postur": 1.0})


def kind(message, topic, history=(SCIATICA,), own=("x",)):
    """The decision's kind; own terms default to a word of its own, so it is not asked again."""
    return decide(message, topic, list(history), own).kind


# --- the decision, turn by turn -----------------------------------------------------------------

def test_the_first_question_stands_alone():
    turn = decide("will remedial massage help my sciatica?", {"sciatica": "sciatica"}, [])
    assert turn.kind == "standalone" and not turn.borrows and turn.leans_on is None
    assert turn.reasons == ("the first question of the conversation",)


def test_a_subject_it_with_a_topic_of_its_own_is_a_new_question():
    # "does it hurt?" = does the massage hurt: pain is its own topic, the sciatica is not asked about.
    turn = decide("does it hurt?", {"hurt": "pain"}, [SCIATICA], ["pain"])
    assert turn.kind == "topic_switch" and not turn.borrows
    assert turn.topic_words == ("pain",) and turn.leans_on == SCIATICA.message
    assert any("'it' (the subject: the service)" in p for p in turn.pointers)
    assert "pain" in turn.reasons[0]


@pytest.mark.parametrize("message, topic, pointer", [
    ("will it help that?", {}, "'that' (a demonstrative"),
    ("how many sessions would that take?", {"sessions": "session"}, "'that' (a demonstrative"),
    ("what techniques do they use for it?", {"techniques": "techniqu", "use": "use"}, "'it' (the object of 'for')"),
    ("would a remedial massage help it recover?", {"remedial": "remedi", "massage": "massag"}, "'it' (the object of 'help')"),
    ("can you massage them?", {"massage": "massag"}, "'them' (an object pronoun)"),
    ("is that safe?", {}, "'that' (a demonstrative"),
    ("is that normal?", {"normal": "normal"}, "'that' (a demonstrative"),
    ("is that a mattress thing or my muscles?", {"mattress": "mattress", "muscles": "muscl"}, "'that' (a demonstr"),
])
def test_a_pronoun_pointing_back_borrows_the_earlier_topic(message, topic, pointer):
    turn = decide(message, topic, [SCIATICA], ["x"])
    assert turn.kind == "follow_up" and turn.borrows, turn
    assert any(p.startswith(pointer) for p in turn.pointers), turn.pointers


@pytest.mark.parametrize("message, topic", [
    ("and my posture?", {"posture": "postur"}),
    ("what about headaches?", {"headaches": "headach"}),
    ("how about for a frozen shoulder", {"shoulder": "shoulder"}),
    ("for my knee?", {"knee": "knee"}),
    ("also my neck", {"neck": "neck"}),
])
def test_an_elliptical_continuation_borrows_the_earlier_question(message, topic):
    turn = decide(message, topic, [SCIATICA], ["x"])
    assert turn.kind == "follow_up" and turn.borrows
    assert any("ellipsis" in p for p in turn.pointers), turn.pointers


@pytest.mark.parametrize("message", ["how long does it take?", "will it help?", "is it safe?", "how often?"])
def test_a_turn_without_a_topic_word_of_its_own_borrows_one(message):
    turn = decide(message, {}, [SCIATICA], ["x"])
    assert turn.kind == "follow_up" and turn.borrows and "no topic word of its own" in turn.reasons[0]


def test_a_subject_pronoun_is_the_earlier_topic_when_that_named_no_service():
    # After "what is sciatica?", "does it hurt?" asks whether sciatica hurts.
    what_is = Turn("1", "what is sciatica?", "answer", {"sciatica": 1.0})
    turn = decide("does it hurt?", {"hurt": "pain"}, [what_is], ["pain"])
    assert turn.kind == "follow_up" and turn.borrows
    # ...but an earlier "does it help with posture?" was about the service (called "it"), so this is not.
    service = Turn("1", "Does it help with posture?", "answer", {"help": 1.0, "postur": 1.0})
    assert decide("does it hurt?", {"hurt": "pain"}, [service], ["pain"]).kind == "topic_switch"


def test_a_new_topic_in_its_own_words_is_a_topic_switch_and_the_same_topic_stands_alone():
    assert kind("is massage good for migraines?", {"massage": "massag", "migraines": "migrain"}, [POSTURE]) == "topic_switch"
    assert kind("what exercises help sciatica pain?", {"sciatica": "sciatica", "pain": "pain"}) == "standalone"
    # Only words about the service ("how many sessions will I need?" after "I have sciatica"): the
    # same conversation, in its own words; the earlier turn breaks ties.
    sciatica = Turn("1", "I have sciatica", "answer", {"sciatica": 1.0})
    turn = decide("how many sessions will I need?", {"sessions": "session"}, [sciatica], ["session", "need"])
    assert turn.kind == "standalone" and not turn.borrows and "breaks ties" in turn.reasons[0]


@pytest.mark.parametrize("message", ["what do you mean?", "sorry, I don't understand", "can you explain that",
                                     "in plain english please", "what does cumulative mean?"])
def test_a_clarification_asks_about_the_last_answer(message):
    turn = decide(message, {}, [SCIATICA], ["x"])
    assert turn.kind == "clarification" and turn.borrows


def test_asked_again_names_the_passages_already_given_and_keeps_the_borrowing():
    given = dataclasses.replace(SCIATICA, passage="reasons#4")
    turn = decide("will it help that?", {}, [given], ["help"])  # no word the earlier turn did not have
    assert turn.kind == "asked_again" and turn.borrows and turn.given == ("reasons#4",)
    assert turn.reasons[0] == "points back at the earlier topic" and "asked again" in turn.reasons[1]
    # A word of its own: a new question, not asked again.
    assert decide("does it hurt?", {"hurt": "pain"}, [given], ["pain"]).kind == "topic_switch"


def test_small_talk_and_replies_without_a_topic_are_passed_over():
    assert decide("thanks!", {}, [SCIATICA], small_talk=True).kind == "small_talk"
    thanks = Turn("2", "thanks", "smalltalk", {})
    turn = decide("and my posture?", {"posture": "postur"}, [SCIATICA, thanks], ["postur"])
    assert turn.kind == "follow_up" and turn.leans_on == SCIATICA.message


def test_determiners_conjunctions_and_times_are_not_pointers():
    assert pointers("is that massage safe for me?", {"massage"}) == ([], [])
    assert pointers("is it true that a massage helps?", {"massage"}) == ([], ["it"])
    assert pointers("I read that my back needs deep tissue", {"back"}) == ([], [])
    assert pointers("this morning my neck hurts", {"neck"}) == ([], [])
    assert pointers("is there a technique that helps posture", {"technique", "posture"}) == ([], [])
    back, subjects = pointers("it's hot, will that help?")
    assert subjects == ["it"] and back and back[0].startswith("'that'")


def test_the_decision_is_a_frozen_record_of_a_known_kind():
    turn = decide("does it hurt?", {"hurt": "pain"}, [SCIATICA], ["pain"])
    assert turn.kind in KINDS
    with pytest.raises(dataclasses.FrozenInstanceError):
        turn.kind = "follow_up"


# --- the pipeline uses the history only as the decision says ------------------------------------

def test_does_it_hurt_after_sciatica_is_answered_on_its_own(bot):
    first, turns = bot.converse(["will remedial massage help my sciatica?"])
    reply, _ = bot.converse(["does it hurt?"], turns)
    assert reply.trace.turn.kind == "topic_switch" and not reply.trace.follow_up
    assert "sciatica" not in reply.weights  # nothing borrowed: the trace showed "pain 1, sciatica 0.5"
    assert reply.type == "answer" and reply.top_passage != first.top_passage
    assert "sciatica" not in reply.passages[0]["text"].lower()
    alone = bot.reply("does it hurt?")
    assert reply.top_passage == alone.top_passage  # as if asked first


def test_a_follow_up_still_borrows_the_earlier_topic(bot):
    _, turns = bot.converse(["will remedial massage help my sciatica?"])
    reply, _ = bot.converse(["what techniques do they use for it?"], turns)
    assert reply.trace.turn.kind == "follow_up" and reply.trace.follow_up
    assert 0 < reply.weights["sciatica"] < 1


@pytest.mark.parametrize("follow_up", ["remedial for that?", "will it help?", "could massage help him with that?"])
def test_a_follow_up_naming_nothing_but_the_service_asks_about_the_earlier_topic_itself(bot, follow_up):
    # "remedial for that?": what it is asked about is the earlier topic, not a side of it.
    _, turns = bot.converse(["my calves are tight and sore after long runs"])
    reply, _ = bot.converse([follow_up], turns)
    assert reply.trace.turn.kind == "follow_up" and reply.weights["calv"] == 1.0


def test_the_safety_window_reads_earlier_turns_whatever_the_decision(bot):
    # A topic switch by the turn model; the red flag told over two turns is still urgent.
    reply, _ = bot.converse(["I got back from a long haul flight yesterday", "my calf is hot, red and swollen"])
    assert reply.type == "urgent" and reply.trace.turn is None


# --- the decision in the staff trace ------------------------------------------------------------

def test_the_cli_trace_shows_the_turn_and_why(runner):
    out = runner.invoke(main, ["ask", "--explain", "will remedial massage help my sciatica? / does it hurt?"]).output
    why = out.split("--- why ---", 1)[1]
    assert "turn         topic_switch: answered on its own" in why
    assert "because   a topic of its own (pain) the earlier turn did not have" in why
    assert "pointer   'it' (the subject: the service)" in why
    first = runner.invoke(main, ["ask", "--explain", "what is remedial massage?"]).output
    assert "turn         standalone: answered on its own" in first


def test_the_staff_json_trace_and_console_show_the_turn(api, console):
    body = api("POST", "explain", json={"message": "and my posture?",
                                        "previous": ["will remedial massage help my sciatica?"]}).get_json()
    turn = body["trace"]["turn"]
    assert turn["kind"] == "follow_up" and turn["borrows"] and body["trace"]["follow_up"]
    assert turn["leans_on"] == "will remedial massage help my sciatica?"
    assert turn["reasons"] == ["continues the earlier question with what it leaves out"]
    urgent = api("POST", "explain", json={"message": "I have crushing chest pain"}).get_json()
    assert urgent["trace"]["turn"] is None
    page = console.get("/staff/", query_string={"message": "does it hurt?",
                                                "previous": "will remedial massage help my sciatica?"}).text
    assert "<strong>topic switch</strong>" in page and "a topic of its own (pain)" in page
