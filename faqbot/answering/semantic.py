"""Meaning beside words: sentence vectors for messages, passages and labelled example banks.

One `Meaning` per process wraps the shipped model (embedding.py). Every text the bot knows in
advance (passages, their visitor questions, the safety and small-talk examples) is embedded once
and kept in memory and in a file keyed by the model's checksum, so a restart or a knowledge edit
embeds only texts it has not seen. A visitor's message is embedded once per reply, and a
repeated message not at all (a bounded cache); its vector is saved with its turn (`pack`), so a later
message that reads it again in its conversation does not embed it a second time.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..knowledge.passages import Passage
from .batch import _ragged
from .embedding import Embedder, ModelError

log = logging.getLogger(__name__)
MODEL_DIR = Path(__file__).resolve().parent.parent / "data" / "model"
QUERY_CACHE = 4096  # distinct messages whose vectors are kept (about 1.6 kB each)
BATCH = 32


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).digest()


class Meaning:
    """Embed texts with the shipped model: known texts once, visitors' messages with a cache."""

    def __init__(self, embedder: Embedder, cache_dir: str | Path | None = None):
        self.embedder = embedder
        self.checksum = embedder.checksum
        self.dim = embedder.dim
        self.file = Path(cache_dir) / f"embeddings-{self.checksum[:16]}.npz" if cache_dir else None
        self._known: dict[bytes, np.ndarray] = {}
        self._loaded = False
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def query(self, text: str) -> np.ndarray:
        """Return one message's vector (cached: starter questions and suggestion clicks repeat)."""
        vec = self._cached([text]).get(text)
        if vec is None:
            vec = self.embedder.embed([text])[0]
            self._remember({text: vec})
        return vec

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """Several messages' vectors (a message's sentences), the uncached ones embedded in one batch."""
        found = self._cached(texts)
        todo = [t for t in dict.fromkeys(texts) if t not in found]
        if todo:
            new = dict(zip(todo, self.embedder.embed(todo)))
            self._remember(new)
            found.update(new)
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def _cached(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors of texts already embedded, each then the most recently used."""
        found = {}
        with self._lock:
            for t in texts:
                vec = self._queries.get(t)
                if vec is not None:
                    self._queries.move_to_end(t)
                    found[t] = vec
        return found

    def _remember(self, vectors: dict[str, np.ndarray]) -> None:
        """Keep new vectors, forgetting the least recently used past QUERY_CACHE."""
        with self._lock:
            self._queries.update(vectors)
            while len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)

    def pack(self, vec: np.ndarray) -> str:
        """A message's vector as text for its saved turn: the model's checksum, then float16 in base64."""
        return self.stamp + base64.b64encode(vec.astype("<f2").tobytes()).decode("ascii")

    @property
    def stamp(self) -> str:
        """What a packed vector starts with: which model made it."""
        return f"{self.checksum[:12]}:"

    def turn_vector(self, message: str, packed: str | None) -> np.ndarray:
        """An earlier turn's vector: the one saved with it, else (saved before, or by another model) embedded."""
        if packed and packed.startswith(self.stamp):
            try:
                vec = np.frombuffer(base64.b64decode(packed[len(self.stamp):], validate=True), "<f2").astype(np.float32)
            except (binascii.Error, ValueError):
                vec = None
            if vec is not None and vec.shape == (self.dim,):
                return vec
        return self.query(message)

    def known(self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Return the vectors of texts known in advance, embedding only those never seen before."""
        self._load()
        keys = [text_key(t) for t in texts]
        missing = {k: None for k in keys if k not in self._known}  # ordered, and a set to look in
        if missing:
            todo = {k: t for k, t in zip(keys, texts) if k in missing}
            order = sorted(todo, key=lambda k: len(todo[k]))  # similar lengths pad less
            for start in range(0, len(order), BATCH):
                chunk = order[start : start + BATCH]
                for k, vec in zip(chunk, self.embedder.embed([todo[k] for k in chunk])):
                    self._known[k] = vec
                if progress:
                    progress(min(start + BATCH, len(order)), len(order))
            self._save()
        if not keys:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._known[k] for k in keys])

    def _load(self) -> None:
        if self._loaded or self.file is None:
            return
        self._loaded = True
        try:
            with np.load(self.file) as data:
                keys, vectors = data["keys"], data["vectors"]
            if vectors.shape[1:] != (self.dim,):
                raise ValueError(f"vectors of shape {vectors.shape}")
            self._known.update({bytes(k): v for k, v in zip(keys, vectors.astype(np.float32))})
        except FileNotFoundError:
            pass
        except Exception as exc:  # a damaged cache is only a cost: embed again and rewrite it
            log.warning("embedding cache %s unreadable (%s): embedding again", self.file, exc)

    def _save(self) -> None:
        if self.file is None:
            return
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            keys = np.array([np.frombuffer(k, np.uint8) for k in self._known])
            vectors = np.stack(list(self._known.values())).astype(np.float32)  # exact: a restart answers alike
            handle, tmp = tempfile.mkstemp(dir=self.file.parent, suffix=".npz")
            with os.fdopen(handle, "wb") as out:
                np.savez(out, keys=keys, vectors=vectors)
            os.replace(tmp, self.file)  # atomic: a worker never reads half a file
        except OSError as exc:
            log.warning("could not write the embedding cache %s: %s", self.file, exc)


_models: dict[str, Embedder] = {}
_models_lock = threading.Lock()


def load_meaning(enabled: bool, model_dir: str | Path | None, cache_dir: str | Path | None) -> tuple[Meaning | None, str]:
    """Load the model once per process; return (Meaning or None, a status for /readyz and logs)."""
    if not enabled:
        return None, "off"
    folder = str(Path(model_dir) if model_dir else MODEL_DIR)
    with _models_lock:
        embedder = _models.get(folder)
        if embedder is None:
            try:
                embedder = _models[folder] = Embedder.load(Path(folder))
            except ModelError as exc:
                log.error("semantic model unavailable, answering with BM25 alone: %s", exc)
                return None, f"unavailable: {exc}"
    return Meaning(embedder, cache_dir), "ok"


def passage_texts(p: Passage) -> list[str]:
    """What a passage is embedded as: its text under its heading, and each visitor question."""
    head = f"{p.heading}: " if p.heading else ""
    return [head + p.text, *p.questions]


class SemanticIndex:
    """Cosine similarity of a message to each passage: the best of its text and its visitor questions."""

    def __init__(self, passages: list[Passage], meaning: Meaning, progress=None):
        texts, owner = [], []
        for i, p in enumerate(passages):
            mine = passage_texts(p)
            texts.extend(mine)
            owner.extend([i] * len(mine))
        self.vectors = meaning.known(texts, progress)
        self.starts = np.flatnonzero(np.diff(np.array(owner), prepend=-1))  # first row of each passage
        self.ends = np.r_[self.starts[1:], len(owner)]
        self.n = len(passages)

    def similarities(self, vec: np.ndarray, passages: np.ndarray | None = None) -> np.ndarray:
        """Return each passage's similarity to a message vector (n,); only the given passages' when
        passages (numbers) are given, the others -1."""
        if passages is None:
            return np.maximum.reduceat(self.vectors @ vec, self.starts)
        out = np.full(self.n, -1.0, np.float32)
        if len(passages):
            counts = self.ends[passages] - self.starts[passages]
            rows = _ragged(self.starts[passages], counts)
            out[passages] = np.maximum.reduceat(self.vectors[rows] @ vec, np.cumsum(counts) - counts)
        return out


@dataclass(frozen=True)
class Nearest:
    label: str
    similarity: float
    example: str


class Bank:
    """Labelled example sentences; tells a message's nearest example of each label."""

    def __init__(self, examples: list[tuple[str, str]], meaning: Meaning):
        self.labels = [label for label, _ in examples]
        self.texts = [text for _, text in examples]
        self.vectors = meaning.known(self.texts)
        rows: dict[str, list[int]] = {}
        for i, label in enumerate(self.labels):
            rows.setdefault(label, []).append(i)
        self._rows = {label: np.array(r, np.int64) for label, r in rows.items()}

    def __len__(self) -> int:
        return len(self.texts)

    def nearest(self, vec: np.ndarray, labels: Sequence[str] | None = None) -> Nearest | None:
        """Return the nearest example (among the given labels), or None for an empty bank."""
        if not self.texts:
            return None
        sims = self.vectors @ vec
        rows = np.arange(len(self.texts)) if labels is None else \
            np.concatenate([self._rows.get(label, np.empty(0, np.int64)) for label in labels] or [np.empty(0, np.int64)])
        if not len(rows):
            return None
        i = int(rows[np.argmax(sims[rows])])
        return Nearest(self.labels[i], float(sims[i]), self.texts[i])
