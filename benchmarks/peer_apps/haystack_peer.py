"""Peer (3) of benchmarks/peers.py: a Haystack BM25 bot over faqbot's passages.

haystack-ai's InMemoryDocumentStore and InMemoryBM25Retriever (its own tokenizer and BM25
variant, as shipped), the top 3 passages, a fixed disclaimer. Served by the Procfile's command
as benchmarks.peer_apps.haystack_peer:app. Needs `pip install -e '.[bench]'`.
"""
import os

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")  # no network calls from a benchmark

from haystack import Document  # noqa: E402
from haystack.components.retrievers.in_memory import InMemoryBM25Retriever  # noqa: E402
from haystack.document_stores.in_memory import InMemoryDocumentStore  # noqa: E402

from benchmarks.peer_apps.common import TOP_K, make_app, passages, passage_text  # noqa: E402

PASSAGES = {p.id: p for p in passages()}
STORE = InMemoryDocumentStore()
STORE.write_documents([Document(content=passage_text(p), meta={"passage": p.id}) for p in PASSAGES.values()])
RETRIEVER = InMemoryBM25Retriever(STORE, top_k=TOP_K)


def search(message: str):
    found = RETRIEVER.run(query=message)["documents"]
    return [(PASSAGES[d.meta["passage"]], d.score or 0.0) for d in found]


app = make_app(__name__, search)
