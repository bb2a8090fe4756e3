"""Safety gate: red flags go to emergency care, contraindications get a caution."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .analysis import normalise

# Clauses end at punctuation and at words that start a new thought ("no chest pain, just
# a stiff back"), so a negation only reaches the words of its own clause.
CLAUSE_BREAK = re.compile(r"[.,;:!?()\n]|\b(?:but|however|although|though|just|except|and now|yet)\b")
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
NEGATION_WINDOW = 5  # words before a match that a negation may stand in
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
    # Fires too when each of these is affirmed somewhere in the message, in any clause: "hit my
    # head really hard, now I keep throwing up" tells its red flag across a comma.
    together: tuple[re.Pattern, ...] = ()


@dataclass(frozen=True)
class SafetyResult:
    urgent: Rule | None
    cautions: tuple[Rule, ...]
    matched: tuple[str, ...] = ()  # "rule: matched text" for traces
    said: tuple[str, ...] = ()  # for each caution, the visitor's own words that raised it


def negated(clause: str, start: int) -> bool:
    """Tell whether a negation cue stands within a few words before position start."""
    before = PSEUDO_NEGATION.sub(" ", clause[:start])
    window = " ".join(before.split()[-NEGATION_WINDOW:])
    return bool(NEGATION.search(window))


def clauses(text: str) -> list[str]:
    """Split normalised text into clauses."""
    return [c.strip() for c in CLAUSE_BREAK.split(text) if c and c.strip()]


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


def plain(message: str) -> str:
    """Case-fold and drop apostrophes, as the rules are written."""
    return normalise(message).replace("'", "")


def affirmed(patterns: tuple[re.Pattern, ...], parts: list[str]) -> tuple[str, str] | None:
    """Return (clause, matched text) of the first match no negation reaches."""
    for clause in parts:
        for pattern in patterns:
            for m in pattern.finditer(clause):
                if not negated(clause, m.start()):
                    return clause, whole_words(clause, m.start(), m.end())
    return None


def whole_words(text: str, start: int, end: int) -> str:
    """Return text[start:end] widened to whole words ("pregnan" -> "pregnant")."""
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[start:end]


def find(rule: Rule, parts: list[str]) -> tuple[str, str] | None:
    """Return (clause, matched text) of the rule's first affirmed match, or of its combination."""
    hit = affirmed(rule.patterns, parts)
    if hit is not None or not rule.together:
        return hit
    found = [affirmed((pattern,), parts) for pattern in rule.together]
    if any(f is None for f in found):
        return None
    # The unless test reads the returned clause: all of them, so "two years ago" anywhere counts.
    return " ".join(f[0] for f in found), " + ".join(f[1] for f in found)


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
    patterns = rule.patterns + rule.together[:1]  # a combination needs all its parts, so its first
    return re.compile("|".join(f"(?:{p.pattern.removeprefix(WORD_START)})" for p in patterns))


class SafetyGate:
    """Check messages against urgent and caution rules."""

    def __init__(self, urgent: list[Rule], caution: list[Rule]):
        self.urgent_rules = urgent
        self.caution_rules = caution
        self._urgent = [(rule, screen(rule)) for rule in urgent]
        self._caution = [(rule, screen(rule)) for rule in caution]

    def check(self, message: str) -> SafetyResult:
        """Classify a message: the first urgent rule that fires, and every caution."""
        text = plain(message)
        parts = clauses(text)
        matched: list[str] = []
        urgent = None
        for rule, first_look in self._urgent:
            if not first_look.search(text):
                continue
            hit = find(rule, parts)
            if hit is None:
                continue
            past = rule.unless.search(hit[0]) if rule.unless is not None else None
            if past:  # in the matched clause only: "broke my ankle today, massage 2 weeks ago"
                matched.append(f"{rule.name} (not acute: {past.group(0)!r})")
                continue
            matched.append(f"{rule.name}: {hit[1]!r}")
            urgent = rule
            break
        cautions, said = [], []
        for rule, first_look in self._caution:
            hit = find(rule, parts) if first_look.search(text) else None
            if hit is not None:
                matched.append(f"caution {rule.name}: {hit[1]!r}")
                cautions.append(rule)
                said.append(hit[1])
        return SafetyResult(urgent, tuple(cautions), tuple(matched), tuple(said))


def compile_rule(entry: dict, level: str) -> Rule:
    """Build a rule from one TOML table."""
    unless = entry.get("unless")
    # Red flags start at a word ("end it" must not fire inside "bend it"); cautions may sit inside
    # a compound ("neurosurgery", "thromboembolism", "coinfection").
    start = WORD_START if level != "caution" else ""

    def compiled(key: str) -> tuple[re.Pattern, ...]:
        return tuple(re.compile(start + "(?:" + p.replace("'", "") + ")") for p in entry.get(key, ()))

    return Rule(
        name=entry["name"],
        patterns=compiled("patterns"),
        advice=entry["advice"],
        level=entry.get("level", level),
        who=entry.get("who", ""),
        unless=re.compile(unless.replace("'", "")) if unless else None,
        together=compiled("together"),
    )


@lru_cache(maxsize=1)
def default_gate() -> SafetyGate:
    """Load the shipped safety rules."""
    data = tomllib.loads(resources.files("faqbot.data").joinpath("safety.toml").read_text("utf-8"))
    return SafetyGate(
        [compile_rule(e, "emergency") for e in data["urgent"]],
        [compile_rule(e, "caution") for e in data["caution"]],
    )


def mentioned(rule: Rule, words: str) -> str:
    """Name a condition in the visitor's words where they differ from the rule's ("warfarin (...)")."""
    named = {w[:5] for w in re.findall(r"\w+", rule.name.lower())}
    if not words or any(w[:5] in named for w in words.split()):  # "pregnant" is the rule's "pregnancy"
        return rule.name
    return f"{words} ({rule.name})"


def caution_text(rules: tuple[Rule, ...], said: tuple[str, ...] = ()) -> str | None:
    """Write the caution in the bot's own words, naming each condition and whom to ask."""
    if not rules:
        return None
    parts = [
        f"Because you mentioned {mentioned(rule, words)}, please check with {rule.who} before having a "
        f"massage: {rule.advice}."
        for rule, words in zip(rules, said or ("",) * len(rules))
    ]
    return " ".join(parts) + " Please also tell your therapist about it before your session."
