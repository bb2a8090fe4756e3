"""The literal words a regular expression cannot match without: a cheap test before the search.

Python's regex engine tries a pattern that starts with an assertion or a group ("\\bface\\b",
"(kill|end)\\w* myself") at every position of the text, and an alternation of many phrasings at
every position again for each phrasing. Most messages contain none of the words such a pattern
is built on, and `word in text` answers that many times faster. `needed` reads the parsed pattern
and returns literals one of which any match must contain; a text without any of them is passed
over with exactly the result the search would have given.
"""
from __future__ import annotations

import re
import re._constants as C  # the parser's node types (the `sre_constants` module of older Pythons)
import re._parser as P  # the stdlib's own parser: what the engine compiles, read the same way
from collections.abc import Hashable

GRAM = 3  # letters a literal is indexed by
REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT)


def needed(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """Literals one of which every match of the pattern (compiled with these flags) contains, or None
    when none is known (then the pattern must be searched); none for a pattern matching any case."""
    parsed = P.parse(pattern, flags)
    if parsed.state.flags & re.IGNORECASE:
        return None
    found = _needed(parsed.data)
    return frozenset(found) if found else None


def _needed(items) -> set[str] | None:
    """For a parsed sequence: the most selective of the conditions its required parts give (a run
    of literals; a group's or a repeat-at-least-once's own; every alternative's of a branch)."""
    options: list[set[str]] = []
    run: list[str] = []
    for op, av in [*items, (None, None)]:  # a sentinel ends the last run of literals
        if op is C.LITERAL:
            run.append(chr(av))
            continue
        if run:
            options.append({"".join(run)})
            run = []
        if op is C.SUBPATTERN:  # (group, flags added, flags removed, pattern): "(?i:...)" may match any case
            inner = None if av[1] & re.IGNORECASE else _needed(av[-1].data)
        elif op is C.BRANCH:
            each = [_needed(branch.data) for branch in av[1]]
            inner = set().union(*each) if all(each) else None
        elif op in REPEATS and av[0] >= 1:
            inner = _needed(av[2].data)
        else:
            inner = None  # optional, a class, an assertion...: nothing it must contain
        if inner:
            options.append(inner)
    if not options:
        return None
    # The shortest literal decides how often the test passes; fewer literals make it cheaper.
    return max(options, key=lambda lits: (min(map(len, lits)), -len(lits)))


class Prefilter:
    """Which of several named patterns a text may match, by the literals each needs.

    The literals are found by their first three letters: a text's three-letter stretches (70 in a
    message) are looked up in a table of the literals starting so, and only those are tested (a
    test of each of 700 literals cost as much as the searches it saved).
    """

    def __init__(self, patterns: dict[Hashable, re.Pattern]):
        self.needs = [(name, needed(pattern.pattern, pattern.flags)) for name, pattern in patterns.items()]
        self.always = [i for i, (_, need) in enumerate(self.needs) if need is None]  # searched in every text
        self.owners: dict[str, list[int]] = {}  # a literal: the patterns (by position) that need it
        for i, (_, need) in enumerate(self.needs):
            for lit in need or ():
                self.owners.setdefault(lit, []).append(i)
        literals = set(self.owners)
        self.short = sorted(lit for lit in literals if len(lit) < GRAM)  # tested in every text
        self.starting: dict[str, list[str]] = {}
        for lit in sorted(literals - set(self.short)):
            self.starting.setdefault(lit[:GRAM], []).append(lit)

    def literals_in(self, text: str) -> set[str]:
        """The literals the text contains."""
        found = {lit for lit in self.short if lit in text}
        starting = self.starting
        for gram in {text[i:i + GRAM] for i in range(len(text) - GRAM + 1)}.intersection(starting):
            found.update(lit for lit in starting[gram] if lit in text)
        return found

    def candidates(self, text: str) -> list[Hashable]:
        """The names of the patterns the text may match, in their order; the others cannot."""
        kept = set(self.always)
        for lit in self.literals_in(text):
            kept.update(self.owners[lit])
        return [self.needs[i][0] for i in sorted(kept)]
