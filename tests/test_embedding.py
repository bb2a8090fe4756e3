"""The shipped sentence-embedding model (faqbot/data/model/) and its runtime module.

The reference vectors in tests/data/embedding_reference.json come from the full-precision PyTorch model
(tools/build_model.py); the shipped ONNX file must stay within the project's cosine bar of them.
"""

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

# Runtime dependencies of the embedding model only; say so plainly where they are not installed.
pytest.importorskip("onnxruntime", reason="onnxruntime is needed for the embedding model")
pytest.importorskip("tokenizers", reason="tokenizers is needed for the embedding model")

from faqbot.answering.embedding import DIM, MODEL_FILE, SUMS_FILE, TOKENIZER_FILE, Embedder, ModelError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODEL_DIR = ROOT / "faqbot" / "data" / "model"
REFERENCE = json.loads((ROOT / "tests" / "data" / "embedding_reference.json").read_text(encoding="utf-8"))
# Pinned here as well as in SHA256SUMS, so a rebuilt or swapped model is a deliberate, reviewed change.
MODEL_SHA256 = "c18111247349a93cace86ff7a0dafb08c12ee13a36dbba92a0546e0408af13c1"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder.load(MODEL_DIR)


def test_the_shipped_model_is_the_pinned_file(embedder):
    assert sha256(MODEL_DIR / MODEL_FILE) == MODEL_SHA256
    assert embedder.checksum == MODEL_SHA256
    assert REFERENCE["model_sha256"] == MODEL_SHA256


def test_vectors_match_the_full_precision_model(embedder):
    texts = [item["text"] for item in REFERENCE["items"]]
    expected = np.array([item["vector"] for item in REFERENCE["items"]], dtype=np.float64)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)  # undo the 6-decimal rounding's drift
    got = embedder.embed(texts)
    cosines = (got * expected).sum(axis=1)
    assert cosines.min() >= REFERENCE["min_cosine"] >= 0.999, dict(zip(texts, cosines.round(6)))
    # And the vectors still mean something: a massage question is nearer to a massage passage than to
    # the stock market.
    by_text = dict(zip(texts, got))
    passage = by_text["Remedial massage targets the muscles, tendons and ligaments to relieve pain and restore movement."]
    question = by_text["Is remedial massage good for lower back pain?"]
    assert question @ passage > question @ by_text["The stock market fell sharply on Tuesday."] + 0.2


def test_single_and_batched_give_the_same_vectors(embedder):
    texts = [item["text"] for item in REFERENCE["items"]]  # lengths from 1 to ~20 tokens: real padding
    batched = embedder.embed(texts)
    single = np.concatenate([embedder.embed([text]) for text in texts])
    np.testing.assert_allclose(single, batched, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(embedder.embed(texts), batched)  # deterministic run to run


def test_shape_type_and_unit_length(embedder):
    vectors = embedder.embed(["massage", "Does massage help with a stiff neck after sleeping badly?"])
    assert vectors.shape == (2, DIM) and vectors.dtype == np.float32 and embedder.dim == DIM == 384
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    empty = embedder.embed([])
    assert empty.shape == (0, DIM) and empty.dtype == np.float32
    with pytest.raises(TypeError):
        embedder.embed("one string is not a list of texts")


def test_long_texts_are_cut_at_128_tokens(embedder):
    head = "massage relieves tension in the back " * 30  # well past 128 tokens
    a, b = embedder.embed([head + "and the neck.", head + "but the stock market fell sharply."])
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def copy_model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(MODEL_DIR, folder)
    return folder


def test_a_corrupt_model_file_is_refused(tmp_path):
    folder = copy_model(tmp_path)
    data = bytearray((folder / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="corrupt"):
        Embedder.load(folder)


def test_a_truncated_tokenizer_is_refused(tmp_path):
    folder = copy_model(tmp_path)
    (folder / TOKENIZER_FILE).write_bytes((folder / TOKENIZER_FILE).read_bytes()[:1000])
    with pytest.raises(ModelError, match="corrupt"):
        Embedder.load(folder)


@pytest.mark.parametrize("name", [MODEL_FILE, TOKENIZER_FILE, SUMS_FILE])
def test_a_missing_file_is_refused(tmp_path, name):
    folder = copy_model(tmp_path)
    (folder / name).unlink()
    with pytest.raises(ModelError):
        Embedder.load(folder)
    with pytest.raises(ModelError):
        Embedder.load(tmp_path / "no-such-folder")


def test_a_file_that_matches_its_sum_but_is_not_a_model_is_refused(tmp_path):
    folder = copy_model(tmp_path)
    (folder / MODEL_FILE).write_bytes(b"not an onnx model")
    sums = (folder / SUMS_FILE).read_text().replace(sha256(MODEL_DIR / MODEL_FILE), sha256(folder / MODEL_FILE))
    (folder / SUMS_FILE).write_text(sums)
    with pytest.raises(ModelError, match="cannot load"):
        Embedder.load(folder)
