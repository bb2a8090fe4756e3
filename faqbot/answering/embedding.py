"""Sentence embeddings from the shipped all-MiniLM-L6-v2 model (faqbot/data/model/).

The model, how it was built and why this variant was chosen are in faqbot/data/model/MODEL_CARD.md;
tools/build_model.py rebuilds it. Only onnxruntime, tokenizers and numpy are needed at run time, and
nothing is downloaded: every file is read from the model folder and checked against SHA256SUMS first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
SUMS_FILE = "SHA256SUMS"
DIM = 384
# The model was fine-tuned on sequences of at most 128 tokens (its model card: "The sequence length was
# limited to 128 tokens"). sentence-transformers lets 256 in, but past 128 the model is outside what it
# was trained on, and attention costs grow with the square of the length. Questions and passages here
# are far shorter; a longer text is embedded by its first 128 tokens (about 90 words).
MAX_TOKENS = 128
PAD_ID = 0  # "[PAD]" in the model's vocabulary


class ModelError(Exception):
    """The model folder is missing a file, or a file does not match SHA256SUMS, or will not load."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_sums(model_dir: Path) -> dict[str, str]:
    try:
        lines = (model_dir / SUMS_FILE).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ModelError(f"cannot read {model_dir / SUMS_FILE}: {error}") from error
    sums: dict[str, str] = {}
    for line in lines:
        digest, _, name = line.strip().partition("  ")  # sha256sum's text format
        if digest and name:
            sums[name.lstrip("*")] = digest.lower()
    return sums


class Embedder:
    """384-dimensional, L2-normalised sentence vectors; the same text always gives the same vector."""

    dim = DIM

    def __init__(self, session: ort.InferenceSession, tokenizer: Tokenizer, checksum: str) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self.checksum = checksum  # sha256 of the model file, for callers that key caches on the model

    @classmethod
    def load(cls, model_dir: Path) -> Embedder:
        model_dir = Path(model_dir)
        sums = _read_sums(model_dir)
        # Check before loading: a truncated or swapped file should fail here, by name, not as an
        # obscure runtime error or, worse, as quietly different vectors.
        for name in (MODEL_FILE, TOKENIZER_FILE):
            if name not in sums:
                raise ModelError(f"{SUMS_FILE} in {model_dir} lists no {name}")
            try:
                actual = _sha256(model_dir / name)
            except OSError as error:
                raise ModelError(f"cannot read {model_dir / name}: {error}") from error
            if actual != sums[name]:
                raise ModelError(f"{model_dir / name} is corrupt: sha256 {actual}, expected {sums[name]}")
        try:
            tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
            options = ort.SessionOptions()
            # One thread and sequential execution: a web worker per core does the parallelism, and a
            # fixed thread count keeps the floating-point reductions, so the vectors, identical run to run.
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            session = ort.InferenceSession(str(model_dir / MODEL_FILE), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # tokenizers and onnxruntime raise their own exception types
            raise ModelError(f"cannot load the model in {model_dir}: {error}") from error
        # tokenizer.json as published pads every text to 128 tokens; pad to the batch's longest instead
        # (the attention mask keeps padding out of the result, and short batches run much faster).
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding(pad_id=PAD_ID, pad_token="[PAD]")
        return cls(session, tokenizer, sums[MODEL_FILE])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, float32 of shape (len(texts), 384), each row of length 1."""
        if isinstance(texts, str):  # a str is a Sequence[str] too: one vector per character is never meant
            raise TypeError("embed() takes a sequence of texts, not one string")
        if len(texts) == 0:
            return np.zeros((0, DIM), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (hidden,) = self._session.run(["last_hidden_state"], feeds)
        # Mean over the real tokens only (sentence-transformers' pooling for this model), then unit length,
        # so a dot product is the cosine.
        mask = feeds["attention_mask"][:, :, None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
