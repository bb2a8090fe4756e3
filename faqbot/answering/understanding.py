"""What the bot understands by meaning: red flags, small talk, clinic topics and the answer gate.

Built on the sentence vectors of semantic.py, with parameters fitted on labelled data by
`faqbot fit` (faqbot/evaluation/fitting.py) and shipped in faqbot/data/fitted.json:
- red flags: how much nearer a message's vector (and the last turns read together) is to its
  nearest red-flag examples of the red-team fit sets than to its nearest harmless ones (lookalikes
  and the fit sets' visitor questions); the threshold and the number of neighbours are fitted, and
  the nearest red-flag example names the category, so the advice fits;
- small talk: a logistic model over the message's vector, how much nearer it is to a small-talk
  example than to any passage, and its length (the nearest example names the intent); clinic
  topics: the nearest example, when it is closer than any passage by the fitted margin;
- the gate: answer or fall back by a logistic model over both retrievers' evidence.
"""
from __future__ import annotations

import hashlib
import json
import math
import threading
import tomllib
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Sequence

import numpy as np

from ..knowledge.passages import Passage
from .semantic import Bank, Meaning, Nearest, SemanticIndex

GATE_FEATURES = ("bm25", "semantic", "margin", "outside")
MARGIN_WORDS = 12  # small talk by the margin alone: longer messages are questions, however politely they start
SCREEN_ROWS = 256  # harmless examples a message is first compared with (see hubs)
VECTORS_CACHED = 4096  # vectors whose red-flag result is kept


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


_HUBS: dict[tuple[str, int, int], np.ndarray] = {}  # by the bank's digest: worked out once a process


def hubs(bank: np.ndarray, k: int, rows: int) -> np.ndarray:
    """The rows of a bank most often among the k nearest of its other rows, most often first.

    A message near no red flag is usually near one of these: the harmless examples are visitor
    questions and lookalikes that gather around a few themes. About 80 ms for 1,656 examples, once
    a process however many bots it builds; a block of rows at a time, so the whole similarity
    matrix (11 MB, which the allocator would keep) is never held.
    """
    key = (hashlib.sha256(bank.tobytes()).hexdigest(), k, rows)
    if key in _HUBS:
        return _HUBS[key]
    k = min(k, len(bank) - 1)
    if k < 1 or len(bank) <= rows:
        return np.arange(len(bank))
    counts = np.zeros(len(bank), np.int64)
    for start in range(0, len(bank), 128):
        sims = bank[start:start + 128] @ bank.T
        block = np.arange(len(sims))
        sims[block, start + block] = -np.inf  # a row is not its own neighbour
        counts += np.bincount(np.argpartition(sims, -k, axis=1)[:, -k:].ravel(), minlength=len(bank))
    _HUBS[key] = found = np.argsort(-counts, kind="stable")[:rows]
    return found


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
    sentence: str = ""  # found in this one sentence of the message, at the stricter sentence threshold


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
        k = self.params.get("safety", {}).get("k", 5)
        self.calm_screen = self.calm[hubs(self.calm, k, SCREEN_ROWS)]
        self._judged: OrderedDict[bytes, tuple[float, Nearest] | None] = OrderedDict()  # by the vector's digest
        self._lock = threading.Lock()
        self._smalltalk_weights: np.ndarray | None = None

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
        if not self.params.get("safety"):
            return None
        for v, in_window in ((vec, False), (window, True)):
            found = self._judge(np.asarray(v, np.float32)) if v is not None else None
            if found is not None:
                return RedFlag(found[1].label, found[0], found[1], in_window)
        return None

    def red_flag_in(self, sentences: Sequence[str]) -> RedFlag | None:
        """Return the red flag one sentence of a longer message describes, by meaning.

        A red flag told in one sentence of several ("Been doing it tough. I took all my sleeping
        tablets an hour ago. Should I cancel Friday?") is diluted in the whole message's vector. A
        sentence alone has lost its neighbours (a negation, a date, "ha"), so it must pass a stricter
        threshold, fitted on messages outside the bank (fitting.fit_sentences)."""
        threshold = self.params.get("safety", {}).get("sentence_threshold")
        if threshold is None:
            return None
        for sentence, v in zip(sentences, self.meaning.queries(sentences)):  # one batch
            found = self._judge(np.asarray(v, np.float32))  # None below the message threshold, so below this one
            if found is not None and found[0] >= threshold:
                return RedFlag(found[1].label, found[0], found[1], False, sentence)
        return None

    def _judge(self, v: np.ndarray) -> tuple[float, Nearest] | None:
        """A vector's red-flag score and nearest red-flag example, when it is a red flag. Cached by
        the vector: visitors repeat messages word for word (starter questions, suggestions)."""
        key = hashlib.blake2b(v.tobytes(), digest_size=16).digest()
        with self._lock:
            if key in self._judged:
                self._judged.move_to_end(key)
                return self._judged[key]
        found = self._score(v)
        with self._lock:
            self._judged[key] = found
            if len(self._judged) > VECTORS_CACHED:
                self._judged.popitem(last=False)
        return found

    def _score(self, v: np.ndarray) -> tuple[float, Nearest] | None:
        p = self.params["safety"]
        k = p.get("k", 5)
        near_red = nearness(self.red @ v, k)
        # A subset's k nearest are no nearer than the whole bank's, so a message already nearer the
        # harmless screen than the threshold allows is no red flag: most messages are decided on a
        # sixth of the harmless bank (the product is memory-bound: 2.5 MB for the whole of it).
        if near_red - nearness(self.calm_screen @ v, k) < p["threshold"]:
            return None
        score = float(near_red - nearness(self.calm @ v, k))
        nearest = self.flags.nearest(v, self.categories) if score >= p["threshold"] else None
        return (score, nearest) if nearest is not None else None

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
