"""Safety gate: red flags go to emergency care, contraindications get a caution."""
from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from ..knowledge.text import normalise
from .addressee import About
from .context import GENERAL_QUESTION, PAST_EVENT, PAST_WINDOW, SENTENCE_BREAK, THOUGHT_BREAK, clauses, negated
from .literals import Prefilter

# Red-flag patterns start at a word: "end it" must not fire inside "bend it", nor "kill myself"
# in "skill". Caution patterns don't, so "neurosurgery" still meets "surgery".
WORD_START = r"(?<!\w)"


@dataclass(frozen=True)
class Rule:
    name: str
    patterns: tuple[re.Pattern, ...]
    advice: str
    level: str = "caution"  # emergency | urgent | crisis | caution
    who: str = ""
    unless: re.Pattern | None = None
    # Fires too when every pattern of one of these combinations is affirmed in one sentence, in any of
    # its clauses: "hit my head really hard, now I keep throwing up" tells its red flag across a comma.
    together: tuple[tuple[re.Pattern, ...], ...] = ()
    echo: bool = True  # a caution may name the condition in the visitor's words ("warfarin")
    categories: tuple[str, ...] = ()  # the red-flag categories of safety_bank.json this rule's advice covers
    helper: str = ""  # the advice to someone helping another person, with {they}/{them}/{their} (addressee.py)


MESSAGES_CACHED = 4096  # messages whose result is kept (a few hundred bytes each)


@dataclass(frozen=True)
class SafetyResult:
    urgent: Rule | None
    cautions: tuple[Rule, ...]
    matched: tuple[str, ...] = ()  # "rule: matched text" for traces
    said: tuple[str, ...] = ()  # for each caution, the visitor's own words that raised it
    about: About | None = None  # for a red flag, who it is about (set by the screen: screening.py)


# "it's hot and swollen" after "my calf hurts" is about the calf: a follow-up that starts with
# a pronoun is also read with the last body part the visitor named in its place.
BODY_PART = re.compile(
    r"\b(calf|calves|leg|legs|arm|arms|chest|head|back|neck|knee|ankle|wrist|hip|foot|hand|face|"
    r"shoulder|jaw|bladder|groin|cut|wound)\b"
)
PRONOUN = re.compile(r"^\s*(it is|its|it|this is|this|that is|that|the pain is|the pain)\b")


def resolve(message: str, previous: str) -> str | None:
    """Read a pronoun-led follow-up with the body part the previous message named."""
    parts = BODY_PART.findall(plain(previous))
    text = plain(message)
    if not parts or not PRONOUN.search(text):
        return None
    return PRONOUN.sub(f"my {parts[-1]} is", text, count=1)


# Time units as phones abbreviate them, written out so that every time phrase reads them
# ("10 yrs ago", "last wk", "2 hrs ago"); "hr" alone is left (a heart rate).
TIME_UNITS = {"yr": "year", "yrs": "years", "wk": "week", "wks": "weeks", "mth": "month", "mths": "months",
              "mnth": "month", "mnths": "months", "hrs": "hours"}
TIME_UNIT = re.compile(r"(?<=[\d\s])(" + "|".join(TIME_UNITS) + r")\b")


def plain(message: str) -> str:
    """Case-fold, drop apostrophes and write out abbreviated time units, as the rules are written."""
    return TIME_UNIT.sub(written_out, normalise(message).replace("'", ""))


def written_out(m: re.Match) -> str:
    """A time unit written out, apart from the number it was typed against ("2hrs" -> "2 hours")."""
    return (" " if m.string[m.start() - 1].isdigit() else "") + TIME_UNITS[m.group(1)]


class Finding(NamedTuple):
    clause: str
    said: str  # the visitor's words that matched, whole
    past: str | None = None  # the time phrase ("two years ago") that made every match a past event


def hits(patterns: tuple[re.Pattern, ...], parts: list[str]) -> Iterator[tuple[str, re.Match]]:
    """Yield (clause, match) for every match that no negation reaches, outside general questions."""
    for clause in parts:
        if GENERAL_QUESTION.search(clause):
            continue
        for pattern in patterns:
            for m in pattern.finditer(clause):
                if not negated(clause, m.start(), m.end()):
                    yield clause, m


def whole_words(text: str, start: int, end: int) -> str:
    """Return text[start:end] widened to whole words ("pregnan" -> "pregnant")."""
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[start:end]


def when(rule: Rule, clause: str, m: re.Match, text: str | None = None) -> str | None:
    """Return the time phrase next to a match that makes it a past event, if the rule has any."""
    # Next to the match, not anywhere in its clause: "I recently had a heart attack and I have
    # crushing chest pain right now" is about now. Across a comma, though, up to the words that
    # start a new thought ("and now", "but"...): "I dislocated my shoulder at school, twenty years
    # ago", but not "he had a heart attack in 2020 and now has crushing chest pain".
    if rule.unless is None:
        return None
    start, end = m.start(), m.end()
    where = clause
    if text is not None and (at := text.find(clause)) >= 0:
        begin = max((b.end() for b in THOUGHT_BREAK.finditer(text, 0, at + start)), default=0)
        following = THOUGHT_BREAK.search(text, at + end)
        where = text[begin:following.start() if following else len(text)]
        start, end = at + start - begin, at + end - begin
    past = rule.unless.search(where, max(0, start - PAST_WINDOW), end + PAST_WINDOW)
    return past.group(0) if past else None


def find(rule: Rule, parts: list[str], text: str | None = None) -> Finding | None:
    """Return the rule's first current match, else its first past one, else None.

    Every match is looked at, so a past event ("a concussion last year") never hides a current
    one in the same message. A combination (`together`) must be told within one sentence of text.
    """
    first_past = None
    for clause, m in hits(rule.patterns, parts):
        said, past = whole_words(clause, m.start(), m.end()), when(rule, clause, m, text)
        if past is None:
            return Finding(clause, said)
        first_past = first_past or Finding(clause, said, past)
    if rule.together:
        sentences = [clauses(s) for s in SENTENCE_BREAK.split(text)] if text is not None else [parts]
        for sentence in sentences:
            for combo in rule.together:
                found = [next(hits((pattern,), sentence), None) for pattern in combo]
                if None in found:
                    continue
                said = " + ".join(whole_words(c, m.start(), m.end()) for c, m in found)
                past = next((w for c, m in found if (w := when(rule, c, m, text))), None)
                if past is None:
                    return Finding(found[0][0], said)
                first_past = first_past or Finding(found[0][0], said, past)
    return first_past


def screen(rule: Rule) -> re.Pattern:
    """Return one regex that matches the whole message wherever any of the rule's patterns would.

    Every clause is a stretch of the message bounded by punctuation, spaces or a break word, so a
    pattern that matches in a clause also matches in the whole message: a message this finds
    nothing in cannot fire the rule, and most messages are passed over in one scan per rule
    instead of one per pattern and clause. Where it finds something, find() decides as before.
    The patterns' leading WORD_START is left out: that only lets the screen match in more places,
    and without an assertion in front the regex engine skips to the positions where a pattern's
    first letter stands instead of trying every one (three times faster).
    """
    patterns = rule.patterns + tuple(combo[0] for combo in rule.together)  # a combination needs its first
    if not patterns:  # a rule recognised by meaning only
        return re.compile(r"(?!)")
    return re.compile("|".join(f"(?:{p.pattern.removeprefix(WORD_START)})" for p in patterns))


class SafetyGate:
    """Check messages against urgent and caution rules."""

    def __init__(self, urgent: list[Rule], caution: list[Rule]):
        self.urgent_rules = urgent
        self.caution_rules = caution
        self._urgent = [(rule, screen(rule)) for rule in urgent]
        self._caution = [(rule, screen(rule)) for rule in caution]
        # Most messages hold none of a rule's words: a substring test passes over it (literals.py).
        self._prefilter = Prefilter(dict(enumerate(look for _, look in self._urgent + self._caution)))
        # Visitors repeat messages word for word (starter questions, suggestions, thanks), and the
        # screen reads each message alone and again in its window: the result depends on the text only.
        self._checked = lru_cache(maxsize=MESSAGES_CACHED)(self._check)

    def for_category(self, category: str) -> Rule:
        """The urgent rule whose advice covers a red-flag category (the first rule for an unknown one)."""
        return next((r for r in self.urgent_rules if category in r.categories), self.urgent_rules[0])

    def check(self, message: str) -> SafetyResult:
        """Classify a message: the first urgent rule that fires, and every caution."""
        return self._checked(message)

    def _check(self, message: str) -> SafetyResult:
        text = plain(message)
        parts = clauses(text)
        matched: list[str] = []
        urgent = None
        may = set(self._prefilter.candidates(text))
        for i, (rule, first_look) in enumerate(self._urgent):
            if i not in may or not first_look.search(text):
                continue
            hit = find(rule, parts, text)
            if hit is None:
                continue
            if hit.past:  # "broke my ankle two months ago": the caution rules speak for it
                matched.append(f"{rule.name} (not acute: {hit.past!r})")
                continue
            matched.append(f"{rule.name}: {hit.said!r}")
            urgent = rule
            break
        cautions, said = [], []
        for i, (rule, first_look) in enumerate(self._caution, len(self._urgent)):
            hit = find(rule, parts, text) if i in may and first_look.search(text) else None
            if hit is not None:
                matched.append(f"caution {rule.name}: {hit.said!r}")
                cautions.append(rule)
                said.append(hit.said)
        return SafetyResult(urgent, tuple(cautions), tuple(matched), tuple(said))


# A red flag dated years back is history, whatever the rule (ConText's "historical"): "my uncle
# overdosed back in 2015", "anaphylaxis when she was little". A rule without an `unless` of its own
# reads only these, stricter than PAST_EVENT (no bare year: "2011 Smith Road"; no "months ago": "my
# c-section 2 months ago, now the scar is bleeding a lot"; no "in the past": "in the past hour").
# The crisis rule reads no date (a past attempt still gets the crisis lines unless told as over).
DATED = (r"\b(?:years?|decades?) (?:ago|back)\b|\blast year\b|\b(?:in|back in) (?:19|20)\d\d\b|back in (?:the )?(?:twenty|nineteen|\d0s)\b|"
         r"\bwhen (?:i|he|she|they) (?:was|were) (?:little|young|small|a (?:kid|child|baby|toddler|teenager))\b|"
         r"\bas a (?:kid|child|teen|teenager|toddler|baby)\b")


def compile_rule(entry: dict, level: str) -> Rule:
    """Build a rule from one TOML table."""
    unless = entry.get("unless")
    # Red flags start at a word ("end it" must not fire inside "bend it"); cautions may sit inside
    # a compound ("neurosurgery", "thromboembolism", "coinfection").
    start = WORD_START if level != "caution" else ""

    def compiled(patterns: list[str]) -> tuple[re.Pattern, ...]:
        return tuple(re.compile(start + "(?:" + p.replace("'", "") + ")") for p in patterns)

    return Rule(
        name=entry["name"],
        patterns=compiled(entry["patterns"]),
        advice=entry["advice"],
        level=entry.get("level", level),
        who=entry.get("who", ""),
        unless=re.compile(f"{unless.replace(chr(39), '')}|{PAST_EVENT}") if unless else
        re.compile(DATED) if level != "caution" and entry.get("level") != "crisis" else None,
        together=tuple(compiled(combo) for combo in entry.get("together", ())),
        echo=entry.get("echo", True),
        categories=tuple(entry.get("categories", ())),
        helper=entry.get("helper", ""),
    )


@lru_cache(maxsize=1)
def default_gate() -> SafetyGate:
    """Load the shipped safety rules."""
    data = tomllib.loads(resources.files("faqbot.data").joinpath("safety.toml").read_text("utf-8"))
    return SafetyGate(
        [compile_rule(e, "emergency") for e in data["urgent"]],
        [compile_rule(e, "caution") for e in data["caution"]],
    )
