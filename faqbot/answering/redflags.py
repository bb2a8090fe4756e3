"""Red flags by meaning: the safety screen's third layer (screening.py), over sentence vectors.

A message's vector (and the last turns read together) is compared with a labelled bank: the
red-team fit sets' red flags by category, and their harmless lookalikes with the fit files'
visitor questions (faqbot/data/safety_bank.json, written by `faqbot fit`). A message is a red flag
when its nearest red-flag examples are nearer than its nearest harmless ones by the fitted
threshold; the nearest red-flag example names the category, so the advice fits.
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from importlib import resources
from typing import Sequence

import numpy as np

from .semantic import Bank, Meaning, Nearest

SCREEN_ROWS = 256  # harmless examples a message is first compared with (see hubs)
VECTORS_CACHED = 4096  # vectors whose red-flag result is kept


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


class RedFlags:
    """The red-flag bank of one bot, and its fitted parameters (fitted.json's "safety": threshold,
    sentence_threshold, k); none (an unfitted bot) finds nothing."""

    def __init__(self, meaning: Meaning, params: dict):
        self.meaning = meaning
        self._judged: OrderedDict[bytes, tuple[float, Nearest] | None] = OrderedDict()  # by the vector's digest
        self._lock = threading.Lock()
        self.params = params
        self.bank = Bank(safety_examples(), meaning)
        self.categories = sorted(set(self.bank.labels) - {"harmless"})  # the red-flag examples' labels
        harmless = np.array([label == "harmless" for label in self.bank.labels], bool)
        self.red, self.calm = self.bank.vectors[~harmless], self.bank.vectors[harmless]
        self.calm_screen = self.calm[hubs(self.calm, params.get("k", 5), SCREEN_ROWS)]

    @property
    def params(self) -> dict:
        return self._params

    @params.setter
    def params(self, params: dict) -> None:
        """New parameters (a refit, a test) judge afresh: the cache holds decisions made with the old ones."""
        with self._lock:
            self._params = params
            self._judged.clear()

    def score(self, vec: np.ndarray, k: int | None = None) -> float:
        """Mean cosine of the k nearest red-flag examples less that of the k nearest harmless ones.

        Neighbours, not a linear classifier over the vector: held out one red-team set at a time,
        at 1% false alarms, a logistic model caught 41% of the red flags and this 67%.
        """
        k = k or self.params.get("k", 5)
        return float(nearness(self.red @ vec, k) - nearness(self.calm @ vec, k))

    def find(self, vec: np.ndarray, window: np.ndarray | None = None) -> RedFlag | None:
        """Return the red flag a message (or its last turns together) describes."""
        if not self.params:
            return None
        for v, in_window in ((vec, False), (window, True)):
            found = self._judge(np.asarray(v, np.float32)) if v is not None else None
            if found is not None:
                return RedFlag(found[1].label, found[0], found[1], in_window)
        return None

    def find_in(self, sentences: Sequence[str]) -> RedFlag | None:
        """Return the red flag one sentence of a longer message describes.

        A red flag told in one sentence of several ("Been doing it tough. I took all my sleeping
        tablets an hour ago. Should I cancel Friday?") is diluted in the whole message's vector. A
        sentence alone has lost its neighbours (a negation, a date, "ha"), so it must pass a stricter
        threshold, fitted on messages outside the bank (fitting.fit_sentences)."""
        threshold = self.params.get("sentence_threshold")
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
        p = self.params
        k = p.get("k", 5)
        near_red = nearness(self.red @ v, k)
        # A subset's k nearest are no nearer than the whole bank's, so a message already nearer the
        # harmless screen than the threshold allows is no red flag: most messages are decided on a
        # sixth of the harmless bank (the product is memory-bound: 2.5 MB for the whole of it).
        if near_red - nearness(self.calm_screen @ v, k) < p["threshold"]:
            return None
        score = float(near_red - nearness(self.calm @ v, k))
        nearest = self.bank.nearest(v, self.categories) if score >= p["threshold"] else None
        return (score, nearest) if nearest is not None else None
