"""Peer (2) of benchmarks/peers.py: a naive rank-bm25 bot over faqbot's passages.

BM25Okapi over a simple tokenizer, the top 3 passages, a fixed disclaimer. Served by the
Procfile's command as benchmarks.peer_apps.bm25_peer:app.
"""
from rank_bm25 import BM25Okapi

from benchmarks.peer_apps.common import make_app, passages, passage_text, tokenize, top

PASSAGES = passages()
BM25 = BM25Okapi([tokenize(passage_text(p)) for p in PASSAGES])


def search(message: str):
    return top(BM25.get_scores(tokenize(message)), PASSAGES)


app = make_app(__name__, search)
