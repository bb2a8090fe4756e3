"""Peer (4) of benchmarks/peers.py: rank-bm25 plus faqbot's own embedding model, and nothing else.

BM25Okapi (the simple tokenizer) and the cosine of the shipped MiniLM model's vectors (loaded by
faqbot.answering.semantic.load_meaning, passages embedded once at start-up), each min-max
normalised over the passages and mixed 0.5/0.5; the top 3, a fixed disclaimer. Every message is
embedded: no cache. Served by the Procfile's command as benchmarks.peer_apps.hybrid_peer:app.
"""
import numpy as np
from rank_bm25 import BM25Okapi

from benchmarks.peer_apps.common import make_app, passages, passage_text, tokenize, top
from faqbot.answering.semantic import load_meaning

PASSAGES = passages()
BM25 = BM25Okapi([tokenize(passage_text(p)) for p in PASSAGES])
MEANING, STATUS = load_meaning(True, None, None)
if MEANING is None:
    raise SystemExit(f"hybrid peer: the shipped model did not load ({STATUS})")
VECTORS = MEANING.known([passage_text(p) for p in PASSAGES])  # (n, 384), unit length


def minmax(x: np.ndarray) -> np.ndarray:
    span = float(x.max() - x.min())
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)


def search(message: str):
    lexical = BM25.get_scores(tokenize(message))
    meaning = VECTORS @ MEANING.embedder.embed([message])[0]
    return top(0.5 * minmax(np.asarray(lexical, np.float64)) + 0.5 * minmax(meaning.astype(np.float64)), PASSAGES)


app = make_app(__name__, search)
