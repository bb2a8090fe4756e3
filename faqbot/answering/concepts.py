"""Red flags as combinations of concepts, in any order and any sentence (data/concepts.toml).

The rules of safety.toml match phrasings; here a few words stand for a concept (a body part, a
symptom, an onset, a context) and a red flag is a combination of concepts affirmed anywhere in
what the visitor told: "her leg looks shorter and is turned outwards" after "she slipped in the
bathroom" is a deformity and a fall, however it is worded. Each occurrence is read in its own
clause: a negation before it ("no numbness") or a time that puts a symptom in the past ("five
years ago") takes it out (NegEx / ConText style); context concepts (an operation, a flight, a
fall) count in the past too.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .context import CLAUSE_BREAK, GENERAL_QUESTION, SENTENCE_BREAK, negated
from .literals import Prefilter
from .safety import plain

# A symptom told as over: "broke my wrist five years ago", "used to get chest pain".
PAST = re.compile(r"\b(?:\d+|a|an|one|two|three|four|five|six|several|many|few|couple of) (?:years?|months?)"
                  r" ago\b|\bused to\b|\bin the past\b(?! (?:few |couple of |\d+ |half |an? |24 |48 |two |three |several )?(?:hours?|hrs?|minutes?|mins?|days?|nights?|weeks?|wks?|months?|years?|while|bit)\b)|\blast year\b|\bas a (?:child|kid|teenager)\b|"
                  r"\bwhen (?:i|he|she) was (?:young|little|a)\b|\b(?:resolved|cleared|healed|fine now|all clear)\b")


# Words that keep a symptom current even in a sentence that mentions the past.
CURRENT = re.compile(r"\b(?:now|today|tonight|this (?:morning|afternoon|evening|week)|since|currently|still|"
                     r"yesterday|just|started|keeps?)\b")


# A deniable context negated with one of these words is denied as over now: "I'm not pregnant anymore", "no longer pregnant".
NOW = re.compile(r"\b(?:now|anymore|any more|no longer)\b")
DENIED = "-"  # marks a denied context among a sentence's concepts

SENTENCES_CACHED = 8192  # sentences whose concepts are kept (a few hundred bytes each)


def over(clause: str, sentence: str) -> bool:
    """Tell whether a symptom's clause, or its sentence without a word keeping it current, says it is over."""
    return bool(PAST.search(clause) or (PAST.search(sentence) and not CURRENT.search(clause)))


@dataclass(frozen=True)
class ConceptFlag:
    category: str
    concepts: tuple[str, ...]  # the combination that was affirmed
    said: tuple[str, ...]  # the visitor's words for each


class Concepts:
    """Tag a message with concepts and find the red-flag combinations it affirms."""

    def __init__(self, concepts: dict[str, list[str]], context: set[str], flags: list[tuple[str, list[list[str]]]],
                 deniable: frozenset[str] = frozenset()):
        self.patterns = {name: re.compile("|".join(f"(?:{p})" for p in pats)) for name, pats in concepts.items()}
        # A sentence holds none of most concepts' words: a substring test passes over them (literals.py).
        self._prefilter = Prefilter(self.patterns)
        self.context = context
        self.deniable = deniable
        self.flags = flags
        # Each combination as a set, in the file's order: a message is checked against them all.
        self._combos = [(category, tuple(combo), frozenset(combo)) for category, combos in flags for combo in combos]
        self._sentence = lru_cache(maxsize=SENTENCES_CACHED)(self._tag_sentence)
        missing = {c for _, combos in flags for combo in combos for c in combo} - set(concepts)
        if missing:
            raise ValueError(f"concepts.toml: flags name undefined concepts {sorted(missing)}")

    def tag(self, message: str) -> dict[str, str]:
        """Return each concept affirmed in the message, with the words that said it.

        Patterns are searched in each sentence (so "red, hot and swollen" reads as one phrase);
        negation and time are read in the clause where a match starts.
        """
        found: dict[str, str] = {}
        denied: set[str] = set()
        for sentence in SENTENCE_BREAK.split(plain(message)):
            for name, words in self._sentence(sentence):
                if name.startswith(DENIED):
                    denied.add(name[1:])
                else:
                    found.setdefault(name, words)  # the first sentence that affirms a concept says it
        # A context denied as over now ("I'm not pregnant anymore") is not set by other words for it ("6 weeks")
        return {name: words for name, words in found.items() if name not in denied}

    def _tag_sentence(self, sentence: str) -> tuple[tuple[str, str], ...]:
        """The concepts one sentence affirms. Cached: a conversation's window rereads its earlier
        sentences on every turn, and each message is read alone and in its window."""
        ends = [m.start() for m in CLAUSE_BREAK.finditer(sentence)] + [len(sentence)]
        found = []
        for name in self._prefilter.candidates(sentence):
            affirmed = None
            for m in self.patterns[name].finditer(sentence):
                start = max([0] + [e + 1 for e in ends if e < m.start()])
                clause = sentence[start : min(e for e in ends if e >= m.start())]
                if negated(clause, m.start() - start, m.end() - start):
                    if name in self.deniable and NOW.search(clause):  # denied now: it outweighs any affirming word
                        affirmed = (DENIED + name, m.group(0))
                        break
                    continue
                if affirmed is None and not GENERAL_QUESTION.search(clause) and (
                        name in self.context or not over(clause, sentence)):
                    affirmed = (name, m.group(0))
                    if name not in self.deniable:  # a deniable state reads every mention: one may deny it
                        break
            if affirmed is not None:
                found.append(affirmed)
        return tuple(found)

    def check(self, message: str) -> ConceptFlag | None:
        """Return the first red flag whose every concept of one combination the message affirms."""
        tags = self.tag(message)
        if not tags:
            return None
        affirmed = set(tags)
        for category, combo, needed in self._combos:
            if needed <= affirmed:
                return ConceptFlag(category, combo, tuple(tags[c] for c in combo))
        return None


@lru_cache(maxsize=1)
def default_concepts() -> Concepts:
    """Load the shipped concepts and red-flag combinations."""
    data = tomllib.loads(resources.files("faqbot.data").joinpath("concepts.toml").read_text("utf-8"))
    return Concepts(data["concept"], set(data["context"]["names"]),
                    [(f["category"], f["any"]) for f in data["flag"]], frozenset(data["context"].get("deniable", ())))
