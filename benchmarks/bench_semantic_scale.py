"""The meaning layer at 100,000 passages: query latency, with the model's cost measured apart.

    python benchmarks/bench_semantic_scale.py [--sizes 1000 100000] [--queries 200]

Embedding 100,000 passages with the shipped model takes about an hour on this machine, so the
passages' vectors here come from a stand-in (random unit vectors, as many as the real model
would give); everything else is the served code: BM25, the similarities of BM25's candidates
(or of every passage below DENSE_ALL), fusion, the fitted gate, compose. The real model's cost
for one query message is measured separately on the same machine and added, so
p50(total) ~= p50(pipeline) + p50(embedding). Passages are generated as in sweep.py.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sweep import corpus, percentiles, word_list  # noqa: E402

from faqbot.answering.pipeline import Bot  # noqa: E402
from faqbot.answering.semantic import Meaning, load_meaning  # noqa: E402
from faqbot.config import DEFAULTS, Settings  # noqa: E402


class StandIn:
    """Unit vectors from each text's hash: the model's shape and cost profile, not its meaning."""

    dim = 384
    checksum = "stand-in"

    def embed(self, texts):
        out = np.empty((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            v = np.random.default_rng(abs(hash(t)) % (2**32)).standard_normal(self.dim).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    real, _ = load_meaning(True, None, None)
    words = word_list()
    qs_words = words[:3000]
    rng = np.random.default_rng(7)
    queries = [" ".join(rng.choice(qs_words, size=5, replace=False)) for _ in range(args.queries)]
    embed_ms = []
    for q in queries:
        t0 = time.perf_counter()
        real.embedder.embed([q])
        embed_ms.append((time.perf_counter() - t0) * 1000)
    e50, e99 = percentiles(embed_ms)
    print(f"one query's embedding, real model: p50 {e50:.2f} ms, p99 {e99:.2f} ms")
    print(f"{'passages':>9} {'build s':>8} {'pipeline p50':>13} {'p99':>7} {'+ embedding p50':>16}")
    for n in args.sizes:
        passages, _ = corpus(n, list(words))
        started = time.perf_counter()
        bot = Bot(Settings.from_mapping(DEFAULTS), passages, meaning=Meaning(StandIn()))
        build = time.perf_counter() - started
        lat = []
        for q in queries:
            t0 = time.perf_counter()
            bot.reply(q)
            lat.append((time.perf_counter() - t0) * 1000)
        p50, p99 = percentiles(lat)
        print(f"{n:>9} {build:>8.1f} {p50:>13.2f} {p99:>7.2f} {p50 + e50:>16.2f}")
    print(f"({args.queries} five-word queries; medians: {statistics.median(lat):.2f} ms at the largest size)")


if __name__ == "__main__":
    main()
