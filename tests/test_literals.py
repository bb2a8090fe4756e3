"""The literal prefilter: a pattern is passed over only when it could not have matched."""
import random
import re

import pytest

from faqbot.answering.concepts import default_concepts
from faqbot.answering.literals import Prefilter, needed
from faqbot.answering.safety import default_gate


@pytest.mark.parametrize("pattern, literals", [
    (r"\bknee\b", {"knee"}),
    (r"(?:\bface\b)|(?:mouth)", {"face", "mouth"}),
    (r"(kill|end)\w* (myself|yourself)", {"myself", "yourself"}),  # the longer of the two required parts
    (r"can'?t (breathe|swallow)", {"breathe", "swallow"}),  # "can" then "t": the group is longer
    (r"(?:arm)+ ache", {" ache"}),
    (r"numb(ness)? in (my|the) (leg|foot)", {"numb"}),  # as selective as " in ", and first
    (r"(very )?sore", {"sore"}),  # an optional part is not needed
    (r"[0-9]+ days?", {" day"}),  # nor a class, nor an optional letter
])
def test_needed_reads_what_a_match_must_contain(pattern, literals):
    assert needed(pattern) == literals


@pytest.mark.parametrize("pattern", [
    r"(?i)chest pain",  # any case: "Chest pain" holds no "chest"
    r"(?i:chest)|xyz",  # one alternative can match in any case
    r"knee|\w+ache|x?",  # one alternative needs no literal at all
    r"a?b?",
])
def test_nothing_needed_when_an_alternative_is_open(pattern):
    assert needed(pattern) is None


def shipped_patterns():
    concepts = default_concepts().patterns
    gate = default_gate()
    looks = {f"rule {i}": look for i, (_, look) in enumerate(gate._urgent + gate._caution)}
    return {**concepts, **looks}


def test_every_shipped_pattern_that_matches_is_a_candidate():
    """A random text built from pieces of the patterns' own phrasings, so that many match: wherever a
    pattern finds something, the prefilter kept it, and its literals are found as `in` finds them."""
    patterns = shipped_patterns()
    prefilter = Prefilter(patterns)
    words = sorted({w for lits in (need for _, need in prefilter.needs if need) for lit in lits
                    for w in lit.split()} | {"my", "his", "a", "the", "and", "not", "no"})
    rng = random.Random(21)
    matched = 0
    for _ in range(3000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 14)))
        kept = set(prefilter.candidates(text))
        assert prefilter.literals_in(text) == {lit for lit in prefilter.short + sum(prefilter.starting.values(), [])
                                               if lit in text}
        for name, pattern in patterns.items():
            if pattern.search(text):
                matched += 1
                assert name in kept, (name, text)
    assert matched > 3000  # the texts did exercise the patterns


def test_a_message_without_the_words_skips_most_patterns():
    prefilter = Prefilter(shipped_patterns())
    kept = prefilter.candidates("what is the difference between remedial and relaxation massage")
    assert len(kept) < len(prefilter.needs) / 4


def test_case_sensitive_literals_follow_the_pattern():
    prefilter = Prefilter({"pain": re.compile(r"\bpain\b"), "open": re.compile(r"(?i)pain")})
    assert prefilter.candidates("no pain") == ["pain", "open"]
    assert prefilter.candidates("no PAIN") == ["open"]


def test_the_flags_a_pattern_is_compiled_with_are_read():
    prefilter = Prefilter({"any case": re.compile("chest pain", re.I), "verbose": re.compile(r"chest \s pain  # a comment", re.X)})
    assert prefilter.candidates("CHEST PAIN") == ["any case"]
    assert prefilter.candidates("chest pain") == ["any case", "verbose"]
