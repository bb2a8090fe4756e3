"""Understand a follow-up ("will it help?") in the context of the previous turns."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..knowledge.text import normalise

# Words that point back to an earlier topic. A question with one of these, or one that
# starts like "what about ...", borrows the previous turn's terms at a lower weight.
ANAPHORA = re.compile(r"\b(it|its|that|this|those|these|they|them|there|one|same|so)\b")
CONTINUATION = re.compile(r"^\s*(what|how) about\b|^\s*(and|also|or|but|plus|so)\b|^\s*(what if|same for)\b")
CARRIED = ("answer", "fallback")  # turns whose topic a follow-up may continue


@dataclass
class Turn:
    reply_id: str
    message: str
    type: str
    weights: dict[str, float] = field(default_factory=dict)
    passage: str | None = None  # the passage an answer was given from (sessions saved before: None)


def is_follow_up(message: str, own_terms: list[str]) -> bool:
    """Tell whether a message leans on earlier turns for its topic."""
    text = normalise(message)
    return bool(CONTINUATION.search(text) or ANAPHORA.search(text) or not own_terms)


def with_context(own: dict[str, float], history: list[Turn], weight: float) -> dict[str, float]:
    """Add the last topical turn's terms, down-weighted, to a follow-up's own terms."""
    previous = next((t for t in reversed(history) if t.type in CARRIED and t.weights), None)
    if previous is None:
        return dict(own)
    merged = {t: w * weight for t, w in previous.weights.items()}
    for term, w in own.items():
        merged[term] = max(merged.get(term, 0.0), w)
    return merged


def already_given(history: list[Turn], message: str, own_terms: list[str]) -> set[str]:
    """The passages the last answers came from, when this turn asks for their topic again.

    Asked again, in the same words, or as a follow-up that adds no word of its own ("will it help
    that?" after the sciatica question, "tell me more"), the visitor did not get what they wanted:
    the same passage word for word would not help. A run of such asks collects the passages
    already given, so the third ask does not go back to the first. A follow-up with a word of
    its own ("does it hurt?") is a new question, answered from whatever passage fits it best.
    """
    given: set[str] = set()
    own, text = set(own_terms), normalise(message)
    for turn in reversed(history):
        if turn.type not in CARRIED:
            continue  # small talk or an urgent reply between asks does not end the run
        if turn.type != "answer" or not turn.passage:
            break
        if not (normalise(turn.message) == text or own <= turn.weights.keys()):
            break
        given.add(turn.passage)
        if len(given) >= 3:
            break
    return given
