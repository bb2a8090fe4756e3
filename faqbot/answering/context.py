"""What a matched phrase reports, read from the words around it (after NegEx and ConText):
negated ("no chest pain"), dated in the past ("two years ago"), or asked about in general
("what are the signs of a stroke"). The safety rules and the concept layer both read it.
"""
from __future__ import annotations

import re

# Clauses end at punctuation and at words that start a new thought ("no chest pain, just
# a stiff back"), so a negation only reaches the words of its own clause.
CLAUSE_BREAK = re.compile(r"[.,;:!?()\n]|\b(?:but|however|although|though|just|except|and now|yet)\b")
# What bounds a time phrase's reach: a clause break other than a comma, or a word that brings
# the telling back to the present ("in 2020, now he has crushing chest pain").
THOUGHT_BREAK = re.compile(r"[.;:!?()\n]|\b(?:but|however|although|though|just|except|and now|yet|now|today|tonight|"
                           r"this (?:morning|afternoon|evening)|currently|at the moment)\b")
# Apostrophes are dropped from messages and patterns alike, so "cant breathe" matches
# "can't breathe" (visitors on phones skip them). "never" is not a negation here: "I've
# never had chest pain this bad" is a red flag.
NEGATION = re.compile(
    r"\b(?:no|not|without|none|nor|denies|deny|free of|"
    r"(?:do|does|did|have|has|had|is|am|are|was|were)(?:nt| not)(?: \w+)?)\b"
)
# Phrases that look like negations but express doubt, not absence (NegEx "pseudo-negations").
PSEUDO_NEGATION = re.compile(
    r"\b(?:not sure|not certain|no idea|not know|nt know|not only|no doubt|not stop|nt stop|oh no)\b"
)
# A clause that asks about a condition in general reports no one's symptom (ConText's
# "hypothetical"): "whats the difference between a heart attack and a cardiac arrest", "what would
# you do if someone fainted on the table", "if a client got chest pain on the table". Clause by
# clause, so "how do you tell if its a heart attack, my chest is crushing" still fires on its second
# clause. A condition put to a clinic's client is hypothetical after "if"; to anyone else only
# after "what if", "suppose" or "imagine" ("what do I do if someone is not breathing" may be now).
# (Messages arrive without apostrophes: see plain().)
GENERAL_QUESTION = re.compile(
    r"\b(?:diff(?:erence)? between|is it true|what (?:would|do|should) (?:you|your \w+|they) do if|"
    r"(?:what are|whats|what is) the (?:\w+ ){0,2}(?:signs|symptoms) of|how (?:do|can|would) (?:you|i|we|they) tell|"
    r"trained to (?:spot|recogni[sz]e)|"
    r"(?:if|suppose|supposing|imagine|what if|in case) (?:a |an |the |your )?(?:\w+ )?(?:client|customer|patient)s?|"
    r"(?:what if|suppose|supposing|imagine|hypothetically),? (?:someone|somebody|anyone))\b"
)
# Ways of dating an event in the past that every rule with an `unless` also reads (ConText's
# "historical"): "a few years back", "in 2020", "when she was little", "as a kid". A rule without
# `unless` (breathing, bleeding, suicidal thoughts) is urgent whenever it is told.
PAST_EVENT = (r"(years?|months?) back\b|\bin (19|20)\d\d\b|"
              r"when (i|he|she|they) (was|were) (little|young|small|a (kid|child|baby|toddler|teenager))|"
              r"as a (kid|child|teenager)|"
              # an age after a past verb says when, not now: "my dad had a heart attack at 60", "when she
              # was 45"; not an age alone ("at 90 my nan fell and can't get up" is about now)
              r"\b(had|got|suffered|was diagnosed)\b[^.,;]{0,30}\bat (the )?(age (of )?)?[2-9]\d\b"
              r"(?! ?(weeks?|wks|am|pm|o.?clock|mins?|minutes|kg|km|:))|"
              r"when (i|he|she|they) (was|were) [1-9]\d?\b")
POST_NEGATION = re.compile(r"[- ]?free\b")  # "seizure-free", "symptom free"
NEGATION_WINDOW = 5  # words before a match that a negation may stand in
PAST_WINDOW = 45  # characters either side of a match that its time phrase ("two years ago") stands in
SENTENCE_BREAK = re.compile(r"[.!?;\n]+")


def negated(clause: str, start: int, end: int | None = None) -> bool:
    """Tell whether a negation cue stands within a few words before position start, or right after
    the match that ends at end ("seizure-free for two years", "pain free": NegEx's post-negation)."""
    if end is not None and POST_NEGATION.match(clause, end):
        return True
    before = PSEUDO_NEGATION.sub(" ", clause[:start])
    window = " ".join(before.split()[-NEGATION_WINDOW:])
    return bool(NEGATION.search(window))


def clauses(text: str) -> list[str]:
    """Split normalised text into clauses."""
    return [c.strip() for c in CLAUSE_BREAK.split(text) if c and c.strip()]
