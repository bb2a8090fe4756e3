"""The sparse engine ranks and scores exactly as rank-bm25, the reference implementation."""
import numpy as np
import pytest
from rank_bm25 import BM25L, BM25Okapi, BM25Plus

from faqbot.answering.analysis import Analyzer
from faqbot.answering.index import Index
from faqbot.knowledge.passages import Passage

REFERENCE = {"plus": BM25Plus, "l": BM25L, "okapi": BM25Okapi}


def generated_corpus(n_docs=600, vocab=400, seed=7):
    """Passages of 20-90 Zipf-distributed words, plus two words found in most passages."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(vocab)]
    probs = 1 / np.arange(1, vocab + 1)
    probs /= probs.sum()
    docs = []
    for _ in range(n_docs):
        doc = list(rng.choice(words, size=int(rng.integers(20, 90)), p=probs))
        if rng.random() < 0.9:
            doc.append("everywhere")  # in ~90% of passages: Okapi's IDF goes negative
        if rng.random() < 0.6:
            doc += ["common", "common"]
        docs.append(doc)
    return docs, words


@pytest.mark.parametrize("variant", sorted(REFERENCE))
def test_rankings_and_scores_match_rank_bm25(variant):
    docs, words = generated_corpus()
    index = Index([Passage(f"p{i}", "d", "", None, " ".join(d)) for i, d in enumerate(docs)],
                  Analyzer(set(), [], stem=False), variant)
    if variant == "okapi":
        ref = BM25Okapi(docs, k1=1.2, b=0.75)
    else:
        ref = REFERENCE[variant](docs, k1=1.2, b=0.75, delta=1.0)
    rng = np.random.default_rng(11)
    queries = [["everywhere", "common"], ["everywhere", "w3", "w150"], ["w0"], ["w399", "nosuchword"]]
    queries += [list(rng.choice(words[:200], size=5, replace=False)) + ["everywhere"] for _ in range(40)]
    for query in queries:
        expected = ref.get_scores(query)
        ours = index.reference_scores(query)
        assert np.allclose(ours, expected, atol=1e-6, rtol=0), query
        k = 5
        got = [int(h.passage.id[1:]) for h in index.search({t: 1.0 for t in query}, k=k)]
        want = list(np.argsort(-expected, kind="stable")[:k])
        # Equal scores may come in either order; the scores at each rank must agree.
        assert np.allclose(expected[got], expected[want], atol=1e-6), query
