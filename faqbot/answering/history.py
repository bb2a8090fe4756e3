"""How the Bot uses a conversation's earlier turns when it answers: only as the turn's decision
(turns.decide) says. A follow-up or a clarification borrows the earlier topic's words and meaning;
a standalone question is answered on its own, the earlier turn breaking ties only; a topic
switch is answered on its own; asked again, the passages already given are passed over.

The safety screen reads its own window of turns (screening.py), whatever the decision: a red
flag told over turns must be urgent however the last turn is phrased.

A mixin of the Bot (answering/pipeline.py): it reads the bot's analyzer, index, retriever,
understanding and settings.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .conversation import Turn, earlier_topic, with_context
from .turns import TurnDecision, decide, is_service

if TYPE_CHECKING:
    from .analysis import Term
    from .index import Hit
    from .pipeline import Trace

# Asked again, the next passage is offered when it scored at least this share of the first's.
REPEAT_SHARE = 0.5
# Standalone: passages within this share of the top passage's score are a tie, which the earlier
# turn's topic may break.
TIE_SHARE = 0.02


class History:
    """The Bot's use of the earlier turns in answering (retrieval borrowing, ties, asked again)."""

    def topic_words(self, analysed: list[Term], own: list[str]) -> dict[str, str]:
        """The words of a question that say what it is about, as typed, mapped to their terms.

        A word the articles are about (keyness), one our synonyms map ("hurt" -> pain), or a rare
        word the articles never use ("tennis") is a topic; "help", "take", "long" are not.
        """
        keep = set(own)
        index, floor = self.index, self.settings.MIN_KEYNESS
        return {t.surface: t.stem for t in analysed if t.stem in keep and (
            index.keyness.get(t.stem, 0.0) >= floor or t.stem in self.mapped or t.stem not in index)}

    def read_turn(self, question: str, analysed: list[Term], own: list[str], history: list[Turn] | None,
                  trace: Trace) -> TurnDecision:
        """Decide what kind of turn this is (its topic words read as spelling fixed them); note it in the trace."""
        turn = decide(question, self.topic_words(analysed, own), history or [], own)
        trace.turn, trace.follow_up = turn, turn.borrows
        return turn

    def with_history(self, turn: TurnDecision, weights: dict[str, float], vec, sims, history: list[Turn] | None):
        """The weights and meaning similarities retrieval reads, the earlier topic borrowed if the turn says so."""
        s, u = self.settings, self.understanding
        if not turn.borrows:
            return weights, sims
        # A turn with no topic of its own but the service ("will it help?", "would remedial massage help?")
        # asks about the earlier topic itself: borrowed at full weight; otherwise below the turn's own words.
        share = s.CONTEXT_WEIGHT if any(not is_service(w) for w in turn.topic_words) else 1.0
        weights = with_context(weights, history or [], share)
        earlier = earlier_topic(history or [])
        if u and earlier:  # meaning, like the words, borrows the earlier question's topic
            sims = self.retriever.similarities(vec, weights) + share * self.retriever.similarities(
                u.meaning.turn_vector(earlier.message, earlier.vector), weights)
        return weights, sims

    def break_ties(self, turn: TurnDecision, hits: list[Hit], history: list[Turn] | None, trace: Trace) -> list[Hit]:
        """For a standalone question, put first among passages tied with the top the one nearest the earlier topic."""
        earlier = earlier_topic(history or [])
        if turn.kind != "standalone" or earlier is None or len(hits) < 2:
            return hits
        tied = [h for h in hits if h.score >= (1 - TIE_SHARE) * hits[0].score]
        if len(tied) < 2:
            return hits
        near = self.index.scores(earlier.weights)
        best = max(tied, key=lambda h: near[self._rows[h.passage.id]])
        if best is hits[0]:
            return hits
        trace.meaning.append(f"tie broken by the earlier topic: {best.passage.id} before {hits[0].passage.id}")
        return [best, *(h for h in hits if h is not best)]

    def not_again(self, turn: TurnDecision, hits: list[Hit], trace: Trace) -> tuple[list[Hit], str]:
        """Asked again: the next passage not yet given that is nearly as good, else the same one said
        plainly as all the articles hold (the suggestions say what else to ask)."""
        top, given = hits[0], set(turn.given)
        if top.passage.id not in given:
            return hits, ""
        runner = next((h for h in hits[1:] if h.passage.id not in given and h.score >= REPEAT_SHARE * top.score), None)
        if runner is None:
            trace.meaning.append(f"asked again: {top.passage.id} is all the articles hold on it")
            return hits, "That is all our articles say on this. "
        trace.meaning.append(f"asked again: the next passage {runner.passage.id} instead of {', '.join(sorted(given))}")
        return [runner, *(h for h in hits if h is not runner)], ""  # listed first, as the passage the answer quotes
