"""The safety screen: three layers, any of which can send a message to urgent care.

1. the rules of data/safety.toml (phrasings, negation- and time-aware; a pronoun-led follow-up is
   read with the body part the previous message named);
2. red flags as combinations of concepts (concepts.py), over the message and the last turns;
   when neither finds one, both read the message again with its misspelt words corrected;
3. red flags by meaning (redflags.py), over the message and the last turns read together, then over
   the message with its misspelt words corrected (one more embedding, for those messages only).
A later layer only runs when the earlier ones found nothing; cautions always come from the rules.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

import numpy as np

from .addressee import About, about
from .concepts import ConceptFlag, Concepts
from .context import SENTENCE_BREAK, clauses, resolution
from .conversation import Turn
from .redflags import safety_examples
from .safety import SafetyGate, SafetyResult, find, plain, resolve
from .spelling import RedFlagSpeller
from .understanding import Understanding

WINDOW_TURNS = 2  # earlier messages read with the new one for red flags told over turns
# Not knowledge.passages.sentences (Punkt, for the articles): visitors break sentences with ";" and line
# breaks, which Punkt keeps together, and this runs on every message (3.8 us a message here, Punkt 10.3).
SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")
SENTENCE_WORDS = 3  # shorter sentences ("Thanks.", "Hi there!") say no red flag on their own
SENTENCES_READ = 8  # at most, the message's first: a 1,000-character message of 22 such sentences cost 196 ms


WORD = re.compile(r"[a-z]+")
WORD_SPLIT = re.compile(r"([a-z]+)")
OTHER_READINGS = 6  # other readings of words as near to two words tried at most a message


def red_flag_speller() -> RedFlagSpeller:
    return RedFlagSpeller(Counter(w for _, text in safety_examples() for w in WORD.findall(plain(text))))


def sentences(message: str) -> list[str]:
    """The sentences of a message that can tell a red flag by themselves (the meaning layer reads each)."""
    return [s.strip() for s in SENTENCE_END.split(message) if len(s.split()) >= SENTENCE_WORDS]


class Screen:
    """Check a message, with its conversation, against every safety layer."""

    def __init__(self, gate: SafetyGate, concepts: Concepts, understanding: Understanding | None):
        self.gate, self.concepts, self.understanding = gate, concepts, understanding
        self.speller = red_flag_speller()

    def check(self, message: str, history: list[Turn] | None, vec, small_talk: bool = False
              ) -> tuple[SafetyResult, list[str]]:
        """Return the result (urgent rule, cautions, what matched) and notes on the layer that fired.

        small_talk: the message is only a thanks, a greeting or a goodbye.
        """
        safety = self.gate.check(message)
        notes: list[str] = []
        text, corrected = plain(message), self.fixed(message)
        if safety.urgent is not None and corrected != text:
            # The time words read as meant too: "overdosed many yeers ago" is dated as "many years ago" is.
            # Only the same rule, found and dated in the past, and no other red flag.
            meant = self.gate.check(corrected)
            dated = find(safety.urgent, clauses(corrected), corrected) if meant.urgent is None else None
            if dated is not None and dated.past:
                notes.append(f"not acute with spelling fixed: {safety.urgent.name}")
                safety = meant
        if safety.urgent is None and corrected != text:  # "im on warfrin" gets the caution "I'm on warfarin" does
            safety = self.more_cautions(safety, [corrected], "spelling fixed")
        if history and not small_talk:  # "I'm on warfarin" / "can I still come Thursday?" keeps its caution
            earlier_told = [t.message for t in history[-WINDOW_TURNS:]]
            safety = self.more_cautions(safety, [*earlier_told, *self.as_meant(earlier_told)], "told earlier")

        def told_earlier(turns: int = WINDOW_TURNS) -> list[str]:  # read only once a red flag is raised
            return [plain(t.message) for t in (history or [])[-turns:]]

        who = None  # who the red flag is about, read where the layer that raised it found it
        if safety.urgent is not None:
            hit = find(safety.urgent, clauses(text), text)
            who = about(text, hit.said.split(" + ") if hit else (), told_earlier())
        resolved = resolve(message, history[-1].message) if history and safety.urgent is None else None
        if resolved:  # a red flag told over two turns: "my calf hurts" / "it's hot and swollen"
            urgent = self.gate.check(resolved).urgent
            if urgent:
                safety = SafetyResult(urgent, safety.cautions, (*safety.matched, f"{urgent.name}: read as {resolved!r}"),
                                      safety.said)
                who = about(text, (), told_earlier(1))  # resolve() wrote "my calf": the earlier turn says whose
        # The last turns read together: "an operation last week" then "my calf is hot and swollen".
        # After an urgent reply, "thanks, I'll go" must not bring the advice back; anything else about
        # it ("should I still have my massage?") is still read with it.
        read_with = [t for t in (history or [])[-WINDOW_TURNS:] if not (small_talk and t.type == "urgent")]
        earlier = [t.message for t in read_with]
        meant = [*map(self.fixed, earlier), corrected]  # the turns read with the message, and it, as meant
        if safety.urgent is None:
            hit = self.by_concepts([*earlier, message])
            if hit is not None:
                found, where = hit
                who = about(plain(where), found.said, told_earlier())
                notes.append(f"red flag by concepts: {found.category} ({concepts_said(found)})")
                safety = self.urgent(safety, found.category, "by concepts")
        if safety.urgent is None:  # the same two layers again, over the words as they were meant
            fixed = self.misspelt(message, [*map(plain, earlier), text], meant, safety, told_earlier)
            if fixed is not None:
                safety, note, who = fixed
                notes.append(note)
        u = self.understanding
        if safety.urgent is None and u is not None:
            # Read the window only when the new message and the turns before it both say something a
            # red flag is made of (a body part, a symptom, an onset...): "how many sessions?" completes
            # none, and after "what is remedial massage?" there is nothing to complete. The window is
            # its turns' vectors summed (each saved with its turn), not the turns embedded again together:
            # no message pays for a second embedding, and every safety set scored the same within one case.
            told = earlier and self.concepts.tag(message) and self.concepts.tag(". ".join(earlier))
            window = together([*(u.meaning.turn_vector(t.message, t.vector) for t in read_with), vec]) if told else None
            flag = u.red_flags.find(vec, window)
            # Then each telling sentence alone, of the message and of the turns read with it (as the concepts
            # read the turns joined): "his arm went floppy for ten minutes." / "he's fine now, can he come?"
            parts = self.telling(message, *reversed(earlier)) if flag is None else []
            if parts:
                flag = u.red_flags.find_in(parts)
            as_meant = False
            if flag is None and corrected != text:  # the model reads misspelt words less surely than the words meant
                flag = u.red_flags.find(u.meaning.query(corrected))
                as_meant = flag is not None
            if flag is not None:
                where = ("the last turns together" if flag.window else
                         f"the sentence {flag.sentence!r}" if flag.sentence else
                         "the message with its spelling fixed" if as_meant else "the message")
                notes.append(f"red flag by meaning in {where}: {flag.category} (nearer red flags by {flag.score:+.3f}; "
                             f"nearest example {flag.nearest.example!r}, {flag.nearest.similarity:.2f})")
                safety = self.urgent(safety, flag.category, "by meaning")
                # No words raised it: the red-flag words the concepts see stand for them.
                # One sentence raised it: who it is about is read there ("I had a massage with you. My boy is...").
                # Read as meant: "my husbnd took..." is about him.
                read = self.fixed(flag.sentence) if flag.sentence else \
                    " ".join(meant) if flag.window else corrected
                who = about(read, tuple(self.concepts.tag(read).values()), told_earlier())
        if safety.urgent is None:
            return safety, notes
        whole = plain(". ".join([*earlier, message]))
        settled = resolution(whole)
        if settled is not None and settled.group("dated"):
            # "That was years ago" dates the sentence before it, no more: a red flag told earlier stands.
            told = ". ".join([c for c in SENTENCE_BREAK.split(whole[:settled.start()]) if c.strip()][:-1])
            if told and self.raises(told):
                settled = None
        if settled is not None:
            after = whole[settled.end():]
            if not self.raises(after):
                # Told as checked and over, and nothing after it is a red flag: the cautions speak for it.
                notes.append(f"not acute: {safety.urgent.name}, told as resolved ({settled.group(0)!r})")
                return SafetyResult(None, safety.cautions, (*safety.matched, f"resolved: {settled.group(0)!r}"),
                                    safety.said), notes
        return replace(safety, about=who or About()), notes

    def fixed(self, message: str) -> str:
        """The message in plain form with its misspelt words corrected (itself, plain, when none is)."""
        return WORD.sub(lambda m: self.speller.correct(m.group(0)), plain(message))

    def as_meant(self, messages: list[str]) -> list[str]:
        """The messages a correction changed, corrected (the rules need not read the others twice)."""
        return [f for m in messages if (f := self.fixed(m)) != plain(m)]

    def raises(self, text: str) -> bool:
        """Tell whether the rules or the concepts find a red flag in plain text, as typed or as meant
        (what is told after "all clear" must not hide "cheast pain" that the screen found corrected)."""
        corrected = self.fixed(text)
        return any(self.gate.check(t).urgent is not None or self.concepts.check(t) is not None
                   for t in dict.fromkeys((text, corrected)))

    def misspelt(self, message: str, typed: list[str], fixed: list[str], safety: SafetyResult, told_earlier
                 ) -> tuple[SafetyResult, str, About] | None:
        """The red flag the rules find in the message, or the concepts in it or its window (typed: the
        turns and the message in plain form; fixed: as meant), read as meant, then with a word as near
        to two words read the other way; with a note for the trace and whom it is about. None when
        none is found or nothing was corrected. A pronoun-led follow-up is read as typed only (check()
        adds the cautions of the words as meant)."""
        if fixed == typed:
            return None
        changed = ", ".join(f"{a!r} -> {b!r}" for t, f in zip(typed, fixed) if t != f
                            for a, b in zip(WORD.findall(t), WORD.findall(f)) if a != b)

        def readings():  # the other readings are worked out only when the words as meant raise nothing
            yield fixed[-1], changed
            # A word as near to two words is read both ways ("haed": had, head): only the rules'
            # and the concepts' combinations, with their negation and time, can make either alarming.
            for other, why in self.other_readings(message):
                yield other, f"{changed}; {why}"

        for reading, how in readings():
            rule = self.gate.check(reading).urgent if reading != typed[-1] else None
            if rule is not None:
                hit = find(rule, clauses(reading), reading)
                return (SafetyResult(rule, safety.cautions, (*safety.matched, f"{rule.name}: spelling fixed"),
                                     safety.said),
                        f"red flag with spelling fixed ({how}): {rule.name}",
                        about(reading, hit.said.split(" + ") if hit else (), told_earlier()))
            found = self.by_concepts([*fixed[:-1], reading])
            if found is not None:
                flag, where = found
                return (self.urgent(safety, flag.category, "by concepts, spelling fixed"),
                        f"red flag by concepts with spelling fixed ({how}): {flag.category} ({concepts_said(flag)})",
                        about(where, flag.said, told_earlier()))
        return None

    def other_readings(self, message: str) -> list[tuple[str, str]]:
        """The message as meant with one word read as the other word it is as near to, and which
        (at most OTHER_READINGS, the message's first words first)."""
        pieces = WORD_SPLIT.split(plain(message))  # words at odd places
        nearest = {i: self.speller.nearest(pieces[i]) for i in range(1, len(pieces), 2)}
        meant = [nearest[i][0] if i in nearest else p for i, p in enumerate(pieces)]
        found = []
        for i, options in nearest.items():
            for other in options[1:]:
                if len(found) == OTHER_READINGS:
                    return found
                found.append(("".join([*meant[:i], other, *meant[i + 1:]]), f"{pieces[i]!r} also read as {other!r}"))
        return found

    def by_concepts(self, texts: list[str]) -> tuple[ConceptFlag, str] | None:
        """The red flag the concepts find in the last text (the message), else in the texts read
        together (its window), with the text it was found in."""
        found = self.concepts.check(texts[-1])
        if found is not None:
            return found, texts[-1]
        where = ". ".join(texts)
        found = self.concepts.check(where) if len(texts) > 1 else None
        return (found, where) if found is not None else None

    def telling(self, *messages: str) -> list[str]:
        """The sentences of longer messages the meaning layer also reads alone (SENTENCES_READ at most,
        in the order given): each names something a red flag is made of, affirmed (the model reads
        "no fever, no redness" as it reads "fever")."""
        found: list[str] = []
        for message in messages:
            parts = sentences(message)
            found += [p for p in parts if self.concepts.tag(p)] if len(parts) > 1 else []
            if len(found) >= SENTENCES_READ:
                return found[:SENTENCES_READ]
        return found

    def more_cautions(self, safety: SafetyResult, texts: list[str], why: str) -> SafetyResult:
        """Add the cautions the rules find in other texts (the last turns, the words as meant) that the
        result has not yet (each read once: the gate caches messages)."""
        names = {rule.name for rule in safety.cautions}
        cautions, said, matched = list(safety.cautions), list(safety.said), list(safety.matched)
        for text in texts:
            told = self.gate.check(text)
            for rule, words in zip(told.cautions, told.said):
                if rule.name not in names:
                    names.add(rule.name)
                    cautions.append(rule)
                    said.append(words)
                    matched.append(f"caution {rule.name}: {words!r} ({why})")
        if len(cautions) == len(safety.cautions):
            return safety
        return replace(safety, cautions=tuple(cautions), said=tuple(said), matched=tuple(matched))

    def urgent(self, safety: SafetyResult, category: str, how: str) -> SafetyResult:
        """The result with the rule whose advice covers a red-flag category."""
        rule = self.gate.for_category(category)
        return SafetyResult(rule, safety.cautions, (*safety.matched, f"{rule.name}: {how}"), safety.said)


def concepts_said(found: ConceptFlag) -> str:
    """The concepts of a red flag with the visitor's words for each, for the trace."""
    return ", ".join(f"{c}: {w!r}" for c, w in zip(found.concepts, found.said))


def together(vectors: list[np.ndarray]) -> np.ndarray:
    """Turns read together by meaning: their unit vectors summed, scaled to unit length again."""
    total = np.sum(vectors, axis=0)
    return total / max(float(np.linalg.norm(total)), 1e-12)
