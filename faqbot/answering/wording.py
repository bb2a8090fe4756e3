"""What a question's words say, for the pipeline: spelling fixed against the articles' vocabulary,
the words that count, words that ask about nothing, and BM25's own confidence that a passage answers.

A mixin of the Bot (answering/pipeline.py): it reads the bot's analyzer, index, speller and settings.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..knowledge.text import tokenize
from .carrying import carrying_words, cover_by_words, everyday_share, reason
from .smalltalk import ASKS, clinic_topic, plain
from .spelling import english_frequency
from .turns import CLARIFIES, DEMONSTRATIVES, OBJECT_PRONOUNS, SUBJECT_PRONOUNS

if TYPE_CHECKING:
    from .analysis import Term
    from .index import Hit
    from .pipeline import Trace

POINTERS = DEMONSTRATIVES | OBJECT_PRONOUNS | SUBJECT_PRONOUNS
REQUEST = re.compile(r"\b(?:can|could|would|will) (?:you|u|ya)\b")  # a request is asked anywhere in a message
A_WORD = 1e-7  # usage frequency from which a token is a word people write ("ciao": 3e-7; "qwerty": 3e-8)
COMMON_WORD = 1e-4  # usage frequency above which an unseen word is filler ("exactly", "always")


class Wording:
    """The word-level evidence the Bot reads a question with."""

    def correct(self, message: str, trace: Trace) -> str:
        """Spell-correct the message's words against the corpus vocabulary."""
        words = []
        for token in tokenize(message):
            fixed = self.speller.correct(token)
            if fixed != token:
                trace.corrections[token] = fixed
            words.append(fixed)
        return " ".join(words)

    def chatter(self, text: str) -> bool:
        """Tell whether words that ask nothing are about nothing the articles or the clinic cover
        ("hope that's ok", "you are very good helper"): no word the articles are about (nor one our
        synonyms map to their words), no clinic topic. A word they never use is no topic here: it
        is not asked about. Nor anything a safety rule reads ("sorry, i'm on warfarin"), nor an event a
        red flag is built on ("oops, i fell and hit my head": a fall, an operation, a medicine; the
        concepts' context): beside small talk it would be answered as small talk, without its caution."""
        for term in self.analyzer.terms(text):
            if self.index.keyness.get(term.stem, 0.0) >= self.settings.MIN_KEYNESS or term.stem in self.mapped:
                return False
        told = self.gate.check(text)
        if told.urgent is not None or told.cautions or not self.concepts.context.isdisjoint(self.concepts.tag(text)):
            return False
        return clinic_topic(text) is None

    def asks_back(self, message: str, history) -> bool:
        """Tell whether a message asks about the conversation so far ("how is that supposed to work?",
        "who decides this?"): a question with a word pointing back, after earlier turns. It names
        little of its own, so it reads like small talk by meaning; it is a follow-up."""
        if not history:
            return False
        text = plain(message)
        asks = "?" in message or ASKS.match(text) or CLARIFIES.search(text) or REQUEST.search(text)
        return bool(asks) and not POINTERS.isdisjoint(text.split())

    def says_words(self, message: str) -> bool:
        """Tell whether any of a message's words is a word: English, or one the small-talk examples
        use ("merci", "ttyl"). By meaning, a keyboard mash ("asdfgh zxcv") reads as anything."""
        known = self.__dict__.get("_smalltalk_words")
        if known is None:
            known = self._smalltalk_words = {w for t in self.understanding.smalltalk.texts for w in tokenize(t)}
        return any(w in known or english_frequency(w) >= A_WORD for w in tokenize(message))

    def articles_name(self, text: str, names) -> str | None:
        """The first word of the text that `names` fullmatches and the articles' own text uses
        ("cupping" once staff add an article about it). Their text, not their `Q:` lines: a visitor
        question that names a physio says nothing about physiotherapy."""
        for word in tokenize(text):
            if names.fullmatch(word) and self.in_articles(word):
                return word
        return None

    def in_articles(self, word: str) -> bool:
        """Whether a passage's text has the word (looked up once per word: only a topic's names ask)."""
        seen = self.__dict__.setdefault("_in_articles", {})
        if word not in seen:
            if len(seen) >= 1000:  # bounded: visitors may name any number of words
                seen.clear()
            pattern = re.compile(rf"\b{re.escape(word)}\b", re.IGNORECASE)
            seen[word] = any(pattern.search(p.text) for p in self.index.passages)
        return seen[word]

    def query_terms(self, analysed: list[Term], trace: Trace) -> list[str]:
        """A question's terms (analysed once, by the pipeline), dropping everyday words the corpus has never seen.

        "what *exactly* is remedial massage" should not lose confidence over "exactly";
        an unseen rare word ("pizza", "hamstring") stays and counts against confidence.
        """
        terms = []
        for term in analysed:
            if term.stem not in self.index and english_frequency(term.surface) >= COMMON_WORD:
                trace.ignored.append(term.surface)
                continue
            terms.append(term.stem)
        trace.own_terms = terms
        # Everyday words set aside here may still be the point ("drink water"): the trace shows whether
        # the top passage covers them (answering/carrying.py).
        trace.carrying = carrying_words(analysed, self.index, self.settings.EVERYDAY_KEYNESS,
                                        self.settings.UNSEEN_WEIGHT)
        return terms

    def coverage(self, top: Hit, trace: Trace) -> None:
        """Mark the carrying words the top passage has, and say in the trace which it leaves uncovered.

        For staff only: covering words by meaning and feeding what is left to the gate were measured
        (docs/semantic.md, "The words that carry a question") and gained nothing for an embedding batch
        on every other message."""
        cover_by_words(trace.carrying, self.index, self._rows[top.passage.id])
        trace.coverage = reason(trace.carrying)

    def confidence(self, weights: dict[str, float], top: Hit) -> float:
        """Share of the query's IDF weight the top passage matches, or its variant match (0..1).

        Each word weighs by its IDF, and less when the articles use it little more than everyday
        English does (see EVERYDAY_KEYNESS).

        A word the corpus has never seen says the question may be about something the articles
        don't cover, so it weighs as a rare word would; one is evidence enough, so several don't
        pile up: "pulled my hamstring at footy, can massage speed up healing" still asks about healing.
        Words our synonyms map are not unknown, even when the articles never use them.
        """
        index = self.index
        # Matching only everyday words ("recommend a good pizza place" meets "recommended")
        # is no evidence: at least one matched term must be one the articles are about.
        topical = max((index.keyness.get(t, 0.0) for t in top.contributions), default=0.0)
        if topical < self.settings.MIN_KEYNESS and top.variant < self.settings.CONFIDENCE_THRESHOLD:
            return 0.0
        # Everyday words ("hands", "little", "ask") say less about what a question is about than the
        # articles' own words do, so a long question's chatter doesn't outweigh its topic.
        everyday = self.settings.EVERYDAY_KEYNESS
        seen = {t: w * everyday_share(index, t, everyday) for t, w in weights.items() if t in index}
        unseen = max((w for t, w in weights.items() if t not in index and t not in self.mapped), default=0.0)
        total = sum(w * index.idf(t) for t, w in seen.items()) + unseen * index.max_idf * self.settings.UNSEEN_WEIGHT
        found = sum(w * index.idf(t) for t, w in seen.items() if t in top.contributions)
        return round(max(found / total if total else 0.0, top.variant), 4)
