"""A conversation's turns as the pipeline keeps them, and a follow-up's terms with the earlier topic's.

Which turns may use the history, and how, is decided in turns.py."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

CARRIED = ("answer", "fallback")  # turns whose topic a follow-up may continue


@dataclass
class Turn:
    reply_id: str
    message: str
    type: str
    weights: dict[str, float] = field(default_factory=dict)
    passage: str | None = None  # the passage an answer was given from (sessions saved before: None)
    vector: str | None = None  # the message's vector (Meaning.pack), for the safety window of later turns


def earlier_topic(history: Sequence[Turn]) -> Turn | None:
    """The last turn whose topic a follow-up may continue (an answer or a fallback with words)."""
    return next((t for t in reversed(history) if t.type in CARRIED and t.weights), None)


def with_context(own: dict[str, float], history: list[Turn], weight: float) -> dict[str, float]:
    """Add the last topical turn's terms, down-weighted, to a follow-up's own terms."""
    previous = earlier_topic(history)
    if previous is None:
        return dict(own)
    merged = {t: w * weight for t, w in previous.weights.items()}
    for term, w in own.items():
        merged[term] = max(merged.get(term, 0.0), w)
    return merged
