"""What the bot understands by meaning: red flags, small talk, clinic topics and the answer gate.

Built on the sentence vectors of semantic.py, with parameters fitted on labelled data by
`faqbot fit` (faqbot/evaluation/fitting.py) and shipped in faqbot/data/fitted.json:
- red flags: how much nearer a message's vector (and the last turns read together) is to its
  nearest red-flag examples of the red-team fit sets than to its nearest harmless ones (lookalikes
  and the fit sets' visitor questions); the threshold and the number of neighbours are fitted, and
  the nearest red-flag example names the category, so the advice fits;
- small talk and clinic topics: the nearest example of an intent, when it is closer than any
  passage by the fitted margin;
- the gate: answer or fall back by a logistic model over both retrievers' evidence.
"""
from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ..knowledge.passages import Passage
from .semantic import Bank, Meaning, Nearest, SemanticIndex

GATE_FEATURES = ("bm25", "semantic", "margin", "outside")


@lru_cache(maxsize=1)
def fitted() -> dict:
    """The shipped fitted parameters (empty before the first `faqbot fit`)."""
    try:
        return json.loads(resources.files("faqbot.data").joinpath("fitted.json").read_text("utf-8"))
    except FileNotFoundError:
        return {}


def nearness(sims: np.ndarray, k: int):
    """The mean of the k largest similarities along the last axis (of all of them when there are
    fewer): one message's, or, for `faqbot fit`, each row's of a matrix."""
    if sims.shape[-1] == 0:
        return np.zeros(sims.shape[:-1]) if sims.ndim > 1 else 0.0
    k = min(k, sims.shape[-1])
    return np.partition(sims, -k, axis=-1)[..., -k:].mean(axis=-1)


def logistic(weights, bias: float, x) -> float:
    z = float(np.dot(weights, x)) + bias
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def examples(name: str, table: str) -> list[tuple[str, str]]:
    """(intent name, example) pairs from a small-talk or clinic-topic data file."""
    data = tomllib.loads(resources.files("faqbot.data").joinpath(name).read_text("utf-8"))
    return [(e["name"], x) for e in data[table] for x in e.get("examples", ())]


def safety_examples() -> list[tuple[str, str]]:
    """(category or "harmless", text) pairs of the red-flag bank (the red-team fit set)."""
    data = json.loads(resources.files("faqbot.data").joinpath("safety_bank.json").read_text("utf-8"))
    return [(e["label"], e["text"]) for e in data["examples"]]


@dataclass(frozen=True)
class RedFlag:
    category: str
    score: float  # how much nearer its nearest red-flag examples are than its nearest harmless ones
    nearest: Nearest
    window: bool  # found in the last turns read together, not in the message alone


class Understanding:
    """The meaning-based stages of one bot, over its passages."""

    def __init__(self, passages: list[Passage], meaning: Meaning, params: dict | None = None, progress=None):
        self.meaning = meaning
        self.params = fitted() if params is None else params
        self.index = SemanticIndex(passages, meaning, progress)
        self.smalltalk = Bank(examples("smalltalk.toml", "intent"), meaning)
        self.topics = Bank(examples("clinic_topics.toml", "topic"), meaning)
        self.flags = Bank(safety_examples(), meaning)
        self.categories = sorted(set(self.flags.labels) - {"harmless"})  # the red-flag examples' labels
        harmless = np.array([label == "harmless" for label in self.flags.labels], bool)
        self.red, self.calm = self.flags.vectors[~harmless], self.flags.vectors[harmless]

    # -- red flags -------------------------------------------------------------------------------
    def red_flag_score(self, vec: np.ndarray, k: int | None = None) -> float:
        """Mean cosine of the k nearest red-flag examples less that of the k nearest harmless ones.

        Neighbours, not a linear classifier over the vector: held out one red-team set at a time,
        at 1% false alarms, a logistic model caught 41% of the red flags and this 67%.
        """
        k = k or self.params.get("safety", {}).get("k", 5)
        return float(nearness(self.red @ vec, k) - nearness(self.calm @ vec, k))

    def red_flag(self, vec: np.ndarray, window: np.ndarray | None = None) -> RedFlag | None:
        """Return the red flag a message (or its last turns together) describes, by meaning."""
        p = self.params.get("safety")
        if not p:
            return None
        for v, in_window in ((vec, False), (window, True)):
            if v is None:
                continue
            score = self.red_flag_score(v)
            if score >= p["threshold"]:
                nearest = self.flags.nearest(v, self.categories)
                if nearest is not None:
                    return RedFlag(nearest.label, score, nearest, in_window)
        return None

    # -- small talk and clinic topics ------------------------------------------------------------
    def intent(self, bank: Bank, vec: np.ndarray, best_passage: float, key: str) -> Nearest | None:
        """The nearest example of a bank, when it is closer than any passage by the fitted margin."""
        margin = self.params.get(key)
        nearest = bank.nearest(vec)
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


def fuse(bm25: np.ndarray, sims: np.ndarray, weight: float) -> np.ndarray:
    """Mix BM25 and meaning scores, each scaled to 0..1 over the passages (weight: meaning's share)."""
    top = bm25.max()
    lexical = bm25 / top if top > 0 else bm25
    low, high = sims.min(), sims.max()
    meaning = (sims - low) / (high - low) if high > low else np.zeros_like(sims)
    return weight * meaning + (1 - weight) * lexical
