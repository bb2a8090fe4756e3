"""Urgent replies about someone else speak to the helper; the visitor's own red flags keep their reply."""
import json
import re
import string
from pathlib import Path

import pytest

from faqbot.answering.addressee import HER, HIM, ME, THEM, About, about, helper_advice
from faqbot.answering.safety import default_gate, plain


def who(*turns: str) -> str:
    *earlier, message = [plain(t) for t in turns]
    return about(message, (), earlier).person


@pytest.mark.parametrize("message, said, person", [
    ("my dad's face has gone lopsided", ["lopsided"], HIM),
    ("my grandmother fell and her leg is turned out", ["turned out"], HER),
    ("my son took a whole packet of pills", ["took a whole packet of pills"], HIM),
    ("my friend says she wants to end it", ["end it"], HER),
    ("my friend says they want to end it", ["end it"], THEM),
    ("my partner has crushing chest pain", ["chest pain"], THEM),
    ("my partner has crushing chest pain and he is sweating", ["chest pain"], HIM),
    ("someone at work collapsed and isn't breathing", ["collapsed"], THEM),
    ("my 6 year old fell off the monkey bars, she won't move her arm", ["fell"], HER),
    ("I think my mum just had a stroke", ["had a stroke"], HER),  # "I think" only tells what the visitor saw
    ("my brother says there is a crushing pain in his chest", ["pain in his chest"], HIM),
    # the visitor
    ("I want to end it", ["end it"], ME),
    ("my wife says I have been slurring my words", ["slurring"], ME),
    ("my dad had a stroke last year and now my face is drooping", ["face is drooping"], ME),
    ("I have a hot swollen calf after flying to see my mum", ["hot swollen calf"], ME),
    ("my chest feels like someone is sitting on it", ["chest", "sitting on"], ME),
    ("I keep having thoughts of hurting my baby", ["thoughts of hurting my baby"], ME),  # the baby is no owner
    ("had my baby 5 days ago and bleeding heavily", ["bleeding heavily"], ME),
    ("I'm 30 weeks pregnant and the baby isn't moving, usually she kicks all day", ["baby isnt moving"], ME),
    ("I took a handful of my friend's valium and can't stay awake", ["took a handful", "valium"], ME),
    ("my heart is fine, the cardiologist said it's a tight chest from posture", ["tight chest"], ME),
    # a "he" or "she" no one was named for is not trusted: "thoughts about hurting her" is the visitor's crisis
    ("I had my baby three weeks ago and I keep having thoughts about hurting her", ["thoughts about hurting her"], ME),
    ("there is a crushing pain in his chest", ["pain in his chest"], ME),
])
def test_who_a_red_flag_is_about(message, said, person):
    assert about(plain(message), said).person == person


def test_who_is_read_from_earlier_turns_when_the_message_names_no_one():
    assert who("my dad's calf is sore", "it's hot and swollen") == HIM
    assert who("my nan fell last night", "she can't get up and her hip hurts") == HER  # "she" refers back
    assert who("my calf is sore", "it's hot and swollen") == ME
    assert who("it's hot and swollen") == ME  # no one named: the visitor, as before
    assert about(plain("she can't breathe")).person == ME  # a "she" no one was named for is not trusted


def test_the_trace_line_names_the_person_and_the_words():
    assert str(About(HIM, "my dad")) == "reply to a helper, about him ('my dad')"
    assert str(About()) == "reply to the visitor, about themselves"


# -- the advice texts -------------------------------------------------------------------------------

URGENT = default_gate().urgent_rules


def test_every_red_flag_has_helper_advice_naming_the_same_numbers():
    for rule in URGENT:
        assert rule.helper, rule.name
        fields = {f for _, f, _, _ in string.Formatter().parse(rule.helper) if f}
        assert fields <= {"emergency", "crisis", "they", "them", "their"}, rule.name
        assert fields & {"emergency", "crisis"} == {f for _, f, _, _ in string.Formatter().parse(rule.advice) if f}, \
            rule.name  # the same call buttons either way
        assert "{them}" in rule.helper or "{their}" in rule.helper, rule.name


def test_helper_advice_never_makes_a_verb_disagree_with_he_or_she():
    # "if {they} are" would read "if he are": {they} stands before words that don't change with it.
    for rule in URGENT:
        for word in re.findall(r"\{they\} (\S+)", rule.helper):
            assert word in {"can", "can't", "could", "should", "might", "may", "will", "won't"}, (rule.name, word)


def test_helper_advice_fills_each_pronoun():
    stroke = next(r for r in URGENT if r.name == "stroke signs")
    assert "Call {emergency} for him now" in helper_advice(stroke, About(HIM, "my dad"))
    assert "Stay with her, don't give her anything to eat or drink" in helper_advice(stroke, About(HER, "mum"))
    assert "don't let them drive" in helper_advice(stroke, About(THEM, "my partner"))
    assert helper_advice(stroke, About()) == stroke.advice and helper_advice(stroke, None) == stroke.advice
    bare = type(stroke)("custom", (), "Call {emergency} now.")  # a rule without helper text keeps its advice
    assert helper_advice(bare, About(HIM, "dad")) == "Call {emergency} now."


# -- the bot ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("message, rule, words", [
    ("my dad's face has gone lopsided", "stroke signs", ["Call 000 for him now", "note the time the symptoms started",
                                                          "don't let him drive"]),
    ("my grandmother fell and her leg is turned out", "possible broken bone",
     ["get her to an emergency department", "don't try to move her: call 000"]),
    ("my son took a whole packet of pills", "possible overdose or poisoning",
     ["Call 000 for him now", "Stay with him", "Lifeline 13 11 14"]),
    ("my partner has crushing chest pain", "chest pain", ["Call 000 for them now", "don't let them drive"]),
])
def test_a_red_flag_about_someone_else_speaks_to_the_helper(bot, message, rule, words):
    reply = bot.reply(message)
    assert reply.type == "urgent" and reply.trace.rule == f"urgent: {rule}" and reply.disclaimer
    for w in words:
        assert w in reply.answer, (w, reply.answer)
    assert "{" not in reply.answer
    assert reply.trace.safety[-1].startswith("reply to a helper, about ")


def test_a_crisis_about_someone_else_tells_the_helper_how_to_support_them(bot):
    reply = bot.reply("my friend says she wants to end it")
    assert reply.trace.rule == "urgent: thoughts of suicide or self-harm"
    assert "I'm really sorry you're feeling this way" not in reply.answer  # not the helper's own crisis
    for w in ["looking out for her", "call 000", "stay with her", "out of reach", "Lifeline 13 11 14",
              "how to support her"]:
        assert w in reply.answer, w
    assert reply.actions == [{"label": "Call 000", "tel": "000"}, {"label": "Call Lifeline 13 11 14", "tel": "131114"}]
    assert reply.trace.safety[-1] == "reply to a helper, about her ('she')"


def test_a_red_flag_told_over_turns_about_someone_else(bot):
    reply, _ = bot.converse(["My grandmother slipped in the bathroom", "her leg looks shorter and is turned outwards"])
    assert reply.type == "urgent" and "get her to an emergency department" in reply.answer
    reply, _ = bot.converse(["my dad's calf is really sore", "it's hot and swollen"])
    assert reply.type == "urgent" and "time off his feet" in reply.answer, reply.trace.safety


FIRST_PERSON = [
    "my face is drooping and my speech is slurred",
    "I have crushing chest pain",
    "I can't breathe properly",
    "I want to kill myself",
    "I don't want to be alive anymore, my mum wouldn't even notice",
    "I took too many pills",
    "I'm 30 weeks pregnant and have a terrible headache and blurred vision",
    "I fell and my wrist is bent at a weird angle",
    "I've lost control of my bladder and my back is killing me",
    "my calf is hot and swollen after my flight",
    "I hit my head and now I keep throwing up",
    "my wife says I've been slurring my words all morning",
]


@pytest.mark.parametrize("message", FIRST_PERSON)
def test_the_visitors_own_red_flag_keeps_todays_reply(bot, message):
    reply = bot.reply(message)
    rule = next(r for r in URGENT if reply.trace.rule == f"urgent: {r.name}")
    assert reply.answer == bot.fill(rule.advice)  # word for word the reply from before helpers had theirs
    assert reply.trace.safety[-1] == "reply to the visitor, about themselves"


# Anyone a message could be about besides the visitor, written apart from the module's own lists.
SOMEONE_ELSE = re.compile(r"\b(he|she|hes|shes|him|her|his|hers|they|them|their|someone|somebody|baby|child|kid|"
                          r"toddler|son|daughter|mum|mom|mother|dad|father|husband|wife|partner|friend|brother|sister|"
                          r"nan|gran\w*|grand\w*|client|flatmate|housemate|neighbour|teen\w*|\d+ ?yo|year old|month old)s?\b")


def test_no_first_person_red_flag_of_the_evaluation_sets_changes_its_reply(bot):
    """Every red flag of the red-team sets that names no one else gets its rule's advice word for word."""
    checked = 0
    for name in ("safety_fit", "safety_fit2", "safety_scored"):
        for case in json.loads(Path(f"eval/{name}.json").read_text())["cases"]:
            turns = case.get("turns") or [case["q"]]
            if case["kind"] not in ("urgent", "multi-turn") or SOMEONE_ELSE.search(plain(" ".join(turns))):
                continue
            reply, _ = bot.converse(turns)
            if reply.type != "urgent":
                continue
            rule = next(r for r in URGENT if reply.trace.rule == f"urgent: {r.name}")
            assert reply.answer == bot.fill(rule.advice), turns
            checked += 1
    assert checked > 150


def test_the_api_speaks_to_the_helper_with_the_disclaimer(chat):
    body = chat("my dad's face has gone lopsided")
    assert body["type"] == "urgent" and "Call 000 for him now" in body["answer"] and "Stay with him" in body["answer"]
    assert body["disclaimer"] and body["actions"] == [{"label": "Call 000", "tel": "000"}]
    own = chat("my face has gone lopsided")
    assert "Call 000 now and note the time the symptoms started." in own["answer"] and "for him" not in own["answer"]
