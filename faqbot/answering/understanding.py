"""What the bot understands by meaning: red flags, small talk, clinic topics and the answer gate.

Built on the sentence vectors of semantic.py, with parameters fitted on labelled data by
`faqbot fit` (faqbot/evaluation/fitting.py) and shipped in faqbot/data/fitted.json:
- red flags: nearer the red-team fit sets' red flags than their harmless lookalikes (redflags.py);
- small talk: a logistic model over the message's vector, how much nearer it is to a small-talk
  example than to any passage, and its length (the nearest example names the intent); clinic
  topics: the nearest example, when it is closer than any passage by the fitted margin;
- the gate: answer or fall back by a logistic model over both retrievers' evidence.
"""
from __future__ import annotations

import json
import math
import tomllib
from functools import lru_cache
from importlib import resources

import numpy as np

from ..knowledge.passages import Passage
from .redflags import RedFlags
from .semantic import Bank, Meaning, Nearest, SemanticIndex

GATE_FEATURES = ("bm25", "semantic", "margin", "outside")
MARGIN_WORDS = 12  # small talk by the margin alone: longer messages are questions, however politely they start


@lru_cache(maxsize=1)
def fitted() -> dict:
    """The shipped fitted parameters (empty before the first `faqbot fit`)."""
    try:
        return json.loads(resources.files("faqbot.data").joinpath("fitted.json").read_text("utf-8"))
    except FileNotFoundError:
        return {}


def logistic(weights, bias: float, x) -> float:
    z = float(np.dot(weights, x)) + bias
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def examples(name: str, table: str) -> list[tuple[str, str]]:
    """(intent name, example) pairs from a small-talk or clinic-topic data file."""
    data = tomllib.loads(resources.files("faqbot.data").joinpath(name).read_text("utf-8"))
    return [(e["name"], x) for e in data[table] for x in e.get("examples", ())]


class Understanding:
    """The meaning-based stages of one bot, over its passages."""

    def __init__(self, passages: list[Passage], meaning: Meaning, params: dict | None = None, progress=None):
        self.meaning = meaning
        self.params = fitted() if params is None else params
        self.index = SemanticIndex(passages, meaning, progress)
        self.smalltalk = Bank(examples("smalltalk.toml", "intent"), meaning)
        self.topics = Bank(examples("clinic_topics.toml", "topic"), meaning)
        self.red_flags = RedFlags(meaning, self.params.get("safety", {}))
        self._smalltalk_weights: np.ndarray | None = None

    # -- small talk and clinic topics ------------------------------------------------------------
    def small_talk(self, vec: np.ndarray, best_passage: float, words: int, model_may=lambda: True) -> Nearest | None:
        """The nearest small-talk example, when the message is small talk by meaning.

        Either an example is closer than any passage by the fitted margin (a message of at most a
        dozen words), or the fitted model reads it as small talk, where model_may() allows: the
        model reaches further, so the pipeline keeps it from questions about the conversation."""
        nearest = self.smalltalk.nearest(vec)
        if nearest is None:
            return None
        if words <= MARGIN_WORDS and self.closer(nearest, best_passage, "smalltalk_min") is not None:
            return nearest
        p = self.params.get("smalltalk")
        if not p:
            return None
        if self._smalltalk_weights is None:  # once: the model's weights as an array
            self._smalltalk_weights = np.asarray(p["weights"], np.float32)
        x = smalltalk_features(vec, nearest.similarity, best_passage, words)
        # The model first: it is one product, and the guards read words; most messages stop here.
        return nearest if logistic(self._smalltalk_weights, p["bias"], x) >= p["threshold"] and model_may() else None

    def intent(self, bank: Bank, vec: np.ndarray, best_passage: float, key: str) -> Nearest | None:
        """The nearest example of a bank, when it is closer than any passage by the fitted margin."""
        return self.closer(bank.nearest(vec), best_passage, key)

    def closer(self, nearest: Nearest | None, best_passage: float, key: str) -> Nearest | None:
        """The example, when it is closer than any passage by the margin fitted under `key`."""
        margin = self.params.get(key)
        if margin is None or nearest is None:
            return None
        return nearest if nearest.similarity - best_passage >= margin else None

    # -- the answer gate -------------------------------------------------------------------------
    def features(self, bm25: float, sims: np.ndarray, top: int, vec: np.ndarray) -> dict[str, float]:
        """Evidence that the top passage answers the message (see GATE_FEATURES)."""
        others = np.delete(sims, top)
        outside = self.topics.nearest(vec)
        return {
            "bm25": bm25,
            "semantic": float(sims[top]),
            "margin": float(sims[top] - others.max()) if len(others) else float(sims[top]),
            "outside": (outside.similarity if outside else 0.0) - float(sims[top]),
        }

    def answer_probability(self, features: dict[str, float]) -> float | None:
        p = self.params.get("gate")
        if not p:
            return None
        return logistic(p["weights"], p["bias"], [features[f] for f in p["features"]])

    @property
    def gate_threshold(self) -> float:
        return float(self.params.get("gate", {}).get("threshold", 0.5))


def smalltalk_features(vec: np.ndarray, nearest: float, best_passage: float, words: int) -> np.ndarray:
    """What the small-talk model reads: the vector itself (what the message is about), how much
    nearer its nearest small-talk example is than any passage, that passage's nearness, and its
    length in tens of words (up to 40): long messages are rarely small talk alone."""
    return np.r_[vec, nearest - best_passage, best_passage, min(words, 40) / 10]


def fuse(bm25: np.ndarray, sims: np.ndarray, weight: float, lexical_share: float = 1.0) -> np.ndarray:
    """Mix BM25 and meaning scores, each scaled to 0..1 over the passages (weight: meaning's share).

    lexical_share: how much of the question BM25 can read (carrying.readable_share); its part shrinks with it."""
    top = bm25.max()
    lexical = bm25 / top if top > 0 else bm25
    low, high = sims.min(), sims.max()
    meaning = (sims - low) / (high - low) if high > low else np.zeros_like(sims)
    return weight * meaning + (1 - weight) * lexical * lexical_share
