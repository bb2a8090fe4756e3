"""Whom an urgent reply speaks to: the visitor at risk, or a visitor helping someone else.

"My dad's face has gone lopsided" needs "call {emergency} for him now", not advice to the visitor
about their own face. Who a red flag is about is read from the words that raised it (a sentence can
name several people: "I think my mum just had a stroke", "my wife says I'm slurring my words"):
each of them gives the person named nearest before it in its sentence, or inside it ("pain in his
chest"), else just after it; most of them decide. A "he" or "she" counts once someone has been named
("my nan fell" / "she can't get up"), never alone (a doctor, a baby). Nobody named, or any doubt
between the visitor and someone else, reads as the visitor: that is today's reply, and a person at
risk must never be answered as if they were only helping.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .context import SENTENCE_BREAK

HIM, HER, THEM, ME = "him", "her", "them", "me"

# Who the visitor may be telling about, with the pronoun their word settles on (THEM when the word
# leaves it open: "my partner", "a friend" are settled by a later "he" or "she").
RELATIONS = {
    **dict.fromkeys("dad daddy father papa husband hubby son stepson stepdad brother bro grandpa grandfather "
                    "granddad grandad grandson uncle nephew boyfriend man guy bloke gentleman boy".split(), HIM),
    **dict.fromkeys("mum mummy mom mommy mama mother wife daughter stepdaughter stepmum stepmom sister sis "
                    "grandma grandmother grandmum grandmom granny gran nan nana nanna granddaughter aunt auntie "
                    "aunty niece girlfriend woman lady girl".split(), HER),
    **dict.fromkeys("partner spouse fiance fiancee friend mate child kid baby toddler infant newborn teenager teen "
                    "parent grandparent grandchild cousin neighbour neighbor colleague coworker workmate housemate "
                    "flatmate roommate client patient children someone somebody".split(), THEM),
}
# "Feels like someone is sitting on my chest": someone counts only when no one else is named.
WEAK = {"someone", "somebody"}
PRONOUNS = {**dict.fromkeys("he hes him his himself".split(), HIM),
            **dict.fromkeys("she shes her hers herself".split(), HER)}
# The visitor. "ill" (I'll without its apostrophe) is left out: "my dad is very ill". "My" counts
# before a part of the body ("my face is drooping", not "my handbag"), "me" only inside the words
# that raised the flag ("better off without me", not "she tried to tell me").
SELF = set("i im ive id me my myself".split())
BODY = set("head face mouth smile jaw neck chest arm arms hand hands wrist fingers leg legs calf calves knee ankle foot "
           "feet hip hips back spine belly tummy stomach skin lips tongue throat eye eyes vision sight speech words "
           "voice heart bladder bowel bowels urine wee pee groin bum bottom rib ribs shoulder shoulders elbow toes "
           "muscles breath breathing body side life waters bump temperature left right whole".split())
# "I think", "I found", "I'm worried": the visitor telling what they saw, not whose symptom it is.
FRAMING = set("think thought found find saw see noticed notice heard reckon believe guess called rang wonder worried "
              "scared sure".split())
# After "dad's" without its apostrophe, a word that keeps "dads" the person ("my dad's been vomiting");
# before anything else that is not a part of the body, the person only owns a thing ("my mum's pills").
STILL_PERSON = set("been got gone had has is was just not now asleep face".split())
WORD = re.compile(r"[a-z]+")
# "My 6 year old fell", "our 2yo": a child, whom a later "he" or "she" settles.
AGED = re.compile(r"\b(?:my|our) (?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)[ -]?"
                  r"(?:(?:years?|yrs?|months?|weeks?)[ -]?old|yo)\b")
# Pregnancy and birth: the baby is not the one to act for ("had my baby 5 days ago and bleeding heavily").
BIRTH = re.compile(r"pregnan|\b(?:wks|weeks along|gave birth|birth|labou?r|midwife|bump|postnatal|postpartum|prenatal)\b|"
                   r"\bha(?:d|ve|ving) (?:my|the|our|a|her) baby")
FORMS = {HIM: {"they": "he", "them": "him", "their": "his"},
         HER: {"they": "she", "them": "her", "their": "her"},
         THEM: {"they": "they", "them": "them", "their": "their"}}


@dataclass(frozen=True)
class About:
    """Who a red flag is about: ME (the visitor), or HIM, HER or THEM, named by `said`."""

    person: str = ME
    said: str = ""  # the words that decided ("my dad", "she")

    @property
    def helper(self) -> bool:
        return self.person != ME

    def __str__(self) -> str:
        if not self.helper:
            return "reply to the visitor, about themselves"
        return f"reply to a helper, about {self.person} ({self.said!r})"


@dataclass(frozen=True)
class Marker:
    start: int
    end: int
    person: str
    said: str
    relation: bool  # a noun ("my dad"), not a pronoun: inside the flag's words it is no owner ("hurting my baby")
    weak: bool = False  # counts only inside the flag's words, or when no one else is named (weak())


def relation(word: str) -> str | None:
    """The relation a word names, also with an s ("my dads face", "my kids")."""
    return word if word in RELATIONS else word[:-1] if word.endswith("s") and word[:-1] in RELATIONS else None


def settled(words: list[str]) -> str:
    """The pronoun the words after an open relation use for it, before anyone else is named."""
    for w in words:
        if w in PRONOUNS:
            return PRONOUNS[w]
        if relation(w):
            break
    return THEM


def markers(text: str, named: bool = False) -> list[Marker]:
    """Every person a (plain, apostrophe-free) text names, in order.

    A "he" or "she" counts only once someone has been named (here or, `named`, in the earlier
    turns): "my heart is fine, she said it's muscular" is about the visitor and their doctor.
    """
    text = AGED.sub(lambda m: "my child".ljust(len(m.group(0))), text)  # same length: positions hold
    birth = BIRTH.search(text) is not None
    words = list(WORD.finditer(text))
    found: list[Marker] = []
    for i, m in enumerate(words):
        w = m.group(0)
        if (noun := relation(w)) and not (birth and noun == "baby"):
            person = RELATIONS[noun]
            if person == THEM and noun not in WEAK:  # "my friend says she wants to end it": "she" settles it
                person = settled([n.group(0) for n in words[i + 1:]])
            owner = i > 0 and words[i - 1].group(0) in ("my", "our")
            start = words[i - 1].start() if owner else m.start()
            if found and found[-1].said == "my" and owner:
                found.pop()  # "my" in "my dad" is the dad's, not the visitor
            after = words[i + 1].group(0) if i + 1 < len(words) else ""
            things = noun != w and after not in BODY and after not in STILL_PERSON  # "my friend's valium"
            found.append(Marker(start, m.end(), person, text[start:m.end()], True, things))
            named = True
        elif w in PRONOUNS and named:
            found.append(Marker(m.start(), m.end(), PRONOUNS[w], w, False))
        elif w in SELF:
            after = [n.group(0) for n in words[i + 1:i + 4]]
            verb = next((a for a in after if a not in ("am", "m", "was", "just", "have", "really", "also")), "")
            framing = verb in FRAMING
            body = w != "my" or bool(set(after) & BODY)
            if not framing:
                found.append(Marker(m.start(), m.end(), ME, w, False, not body or w == "me"))
    return found


def weak(k: Marker) -> bool:
    """Someone, "my friend's valium", "my handbag", "tell me": a person only when no one else is named."""
    return k.weak or k.said.split()[-1] in WEAK


def owner(found: list[Marker], start: int, end: int, sentence: tuple[int, int]) -> Marker | None:
    """The person the words text[start:end] are about, within their sentence."""
    inside = [k for k in found if sentence[0] <= k.start and k.end <= sentence[1]]
    # "kill myself", "pain in his chest", "better off without me"; not "got into my handbag"
    within = [k for k in inside if k.start >= start and k.end <= end and not k.relation and (not k.weak or k.said == "me")]
    inside = [k for k in inside if not weak(k) or k in within] or inside
    # A person named before the words, or a pronoun inside them ("pain in his chest"); a noun inside them
    # is no owner ("thoughts of hurting my baby", "the baby isn't moving").
    before = [k for k in inside if k.end <= start or k in within]
    after = [k for k in inside if k.start >= end]
    return before[-1] if before else after[0] if after else None


def sentence_at(text: str, position: int) -> tuple[int, int]:
    """The bounds of the sentence of text holding position."""
    start = max((m.end() for m in SENTENCE_BREAK.finditer(text, 0, position)), default=0)
    following = SENTENCE_BREAK.search(text, position)
    return start, following.start() if following else len(text)


def about(text: str, said: list[str] | tuple[str, ...] = (), earlier: list[str] | tuple[str, ...] = ()) -> About:
    """Tell who the red flag that `said` (the words that raised it, in text) is about.

    text is plain (case-folded, without apostrophes), as the safety layers read it. Each of the
    words gives the person nearest them in their sentence; the person most of them give decides,
    the visitor on a tie ("I took a handful of my friend's valium"), else the latest words ("I
    flew home with my mum. Now her calf is hot and swollen"). Without an owner near the words, the
    visitor if the message speaks of them at all, else the last person it names, else the last one
    the earlier turns name: when unsure, the visitor's own reply, as before there were helpers'.
    """
    named = any(k.relation for t in earlier for k in markers(t))
    found = markers(text, named)
    spans = sorted(((at, at + len(w)) for w in said if w and (at := text.find(w)) >= 0), reverse=True)
    owners = [k for start, end in spans if (k := owner(found, start, end, sentence_at(text, start)))]
    if owners:
        votes = Counter(k.person for k in owners)
        best = max(votes.values())
        person = ME if votes[ME] == best else next(k.person for k in owners if votes[k.person] == best)
        k = next(k for k in owners if k.person == person)
        return About(k.person, k.said)
    for i, words in enumerate((text, *reversed(earlier))):
        found = markers(words, named if i == 0 else False)
        found = [k for k in found if not weak(k)] or found
        if found:
            k = next((k for k in found if k.person == ME), found[-1])
            return About(k.person, k.said)
    return About()


def helper_advice(rule, who: About | None) -> str:
    """A red-flag rule's advice for whom the message is about: to a helper, its helper text with the pronouns filled.

    {they}, {them} and {their} become he/him/his, she/her/her or they/them/their; {emergency} and
    {crisis} are left for the bot to fill from its configuration. A rule without a helper text
    keeps its one advice.
    """
    if who is None or not who.helper or not rule.helper:
        return rule.advice
    text = rule.helper
    for key, word in FORMS[who.person].items():
        text = text.replace("{" + key + "}", word)
    return text
