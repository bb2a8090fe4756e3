"""Corpus-size sweep: rank-bm25 against the served sparse engine, side by side in one run.

For 1k, 10k and 100k generated passages (~60 words, Zipf-distributed English words plus
clinic vocabulary) it prints build time, memory, and query p50/p99 for 5-word queries:
rank-bm25's get_scores + sort, the served Index.search, and the whole pipeline
(Bot.reply). Each size runs in a fresh process so memory figures don't mix.

    python benchmarks/sweep.py                # 1k, 10k, 100k; writes sweep.json + sweep.png
    python benchmarks/sweep.py --sizes 1000 --queries 50
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def rss_mb() -> float:
    """Return this process's resident memory in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def corpus(n: int, seed: int = 1):
    """Generate n passages and the word list they are drawn from."""
    import numpy as np
    from spellchecker import SpellChecker

    from faqbot.corpus import load_corpus
    from faqbot.passages import Passage, split_corpus

    common = sorted(SpellChecker().word_frequency.items(), key=lambda kv: -kv[1])
    words = [w for w, _ in common if w.isalpha() and len(w) > 2][:30000]
    clinic = sorted({w.lower().strip(".,") for p in split_corpus(load_corpus("corpus")[0]) for w in p.text.split()})
    words = clinic + words  # the clinic's words are the commonest, as in a health library
    rng = np.random.default_rng(seed)
    probs = 1 / np.arange(1, len(words) + 1) ** 0.9
    probs /= probs.sum()
    draws = rng.choice(len(words), size=(n, 60), p=probs)
    passages = [Passage(f"g{i}", f"doc{i // 8}", f"Article {i // 8}", None, " ".join(words[j] for j in row) + ".")
                for i, row in enumerate(draws)]
    return passages, words, rng


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return samples[len(samples) // 2], samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def run_size(n: int, queries: int) -> dict:
    """Measure one corpus size (called in a child process)."""
    import numpy as np
    from rank_bm25 import BM25Plus

    from faqbot.analysis import default_analyzer
    from faqbot.config import DEFAULTS, Settings
    from faqbot.index import Index
    from faqbot.pipeline import Bot

    passages, words, rng = corpus(n)
    analyzer = default_analyzer()
    qs = [" ".join(rng.choice(words[:3000], size=5, replace=False)) for _ in range(queries)]
    out: dict = {"passages": n, "queries": queries}

    base = rss_mb()
    started = time.perf_counter()
    bot = Bot(Settings.from_mapping(DEFAULTS), passages)
    out["served_build_s"] = time.perf_counter() - started
    out["served_mb"] = rss_mb() - base
    index: Index = bot.index
    search, whole = [], []
    for q in qs:
        weights = {t: 1.0 for t in analyzer.analyze(q)}
        t0 = time.perf_counter()
        index.search(weights, k=5)
        search.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        bot.reply(q)
        whole.append((time.perf_counter() - t0) * 1000)
    out["served_search_p50_ms"], out["served_search_p99_ms"] = percentiles(search)
    out["pipeline_p50_ms"], out["pipeline_p99_ms"] = percentiles(whole)

    docs = [analyzer.analyze(" ".join([p.doc_title, p.text])) for p in passages]
    base = rss_mb()
    started = time.perf_counter()
    ref = BM25Plus(docs, k1=1.2, b=0.75, delta=1.0)
    out["rank_bm25_build_s"] = time.perf_counter() - started
    out["rank_bm25_mb"] = rss_mb() - base
    ref_lat, same = [], 0
    budget = qs[: max(20, queries // 10)] if n >= 100_000 else qs  # 140 ms a query: keep it bounded
    for q in budget:
        terms = list(dict.fromkeys(analyzer.analyze(q)))
        t0 = time.perf_counter()
        scores = ref.get_scores(terms)
        top = np.argsort(-scores, kind="stable")[:5]
        ref_lat.append((time.perf_counter() - t0) * 1000)
        ours = index.scores({t: 1.0 for t in terms})
        mine = np.argsort(-ours, kind="stable")[:5]
        same += bool(np.allclose(scores[top], scores[mine], atol=1e-6))
    out["rank_bm25_p50_ms"], out["rank_bm25_p99_ms"] = percentiles(ref_lat)
    out["identical_top5"] = f"{same}/{len(budget)}"
    return out


def plot(results: list[dict], path: Path) -> None:
    """Draw query latency against corpus size (log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["passages"] for r in results]
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for key, label in (("rank_bm25_p50_ms", "rank-bm25 get_scores (p50)"),
                       ("served_search_p50_ms", "served sparse search (p50)"),
                       ("pipeline_p50_ms", "whole pipeline, served (p50)"),
                       ("pipeline_p99_ms", "whole pipeline, served (p99)")):
        ax.plot(sizes, [r[key] for r in results], marker="o", label=label)
    ax.set(xscale="log", yscale="log", xlabel="passages", ylabel="ms per query",
           title="faqbot query latency against corpus size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_size(args.child, args.queries)))
        return
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        proc = subprocess.run([sys.executable, __file__, "--child", str(n), "--queries", str(args.queries)],
                              capture_output=True, text=True, check=True)
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"measured {n} passages", file=sys.stderr)
    cols = ["passages", "served_build_s", "served_mb", "served_search_p50_ms", "served_search_p99_ms",
            "pipeline_p50_ms", "pipeline_p99_ms", "rank_bm25_build_s", "rank_bm25_mb", "rank_bm25_p50_ms",
            "rank_bm25_p99_ms", "identical_top5"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in results:
        print("| " + " | ".join(f"{r[c]:.3g}" if isinstance(r[c], float) else str(r[c]) for c in cols) + " |")
    (HERE / "sweep.json").write_text(json.dumps(results, indent=1))
    try:
        plot(results, HERE / "sweep.png")
    except ImportError:
        print("(pip install matplotlib for the plot)", file=sys.stderr)


if __name__ == "__main__":
    main()
