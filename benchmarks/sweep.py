"""Corpus-size sweep: rank-bm25 against the served sparse engine, side by side in one run.

For 1k, 10k and 100k generated passages (~60 words, Zipf-distributed English words plus
clinic vocabulary) it prints build time, memory, and query p50/p99 for 5-word queries:
rank-bm25's get_scores + sort, the served Index.search, and the whole pipeline
(Bot.reply). Each size runs in a fresh process so memory figures don't mix; that process
imports what a worker imports (faqbot.api) before anything else, and `worker_rss_mb` is its
whole resident memory once the bot is built and has answered the queries (libraries, passage
text, index, word lists), measured before rank-bm25 is built. `--repeat N` runs every size N
times, each in a fresh process, and reports the median of each figure.

    python benchmarks/sweep.py                # 1k, 10k, 100k; writes sweep.json + sweep.png
    python benchmarks/sweep.py --sizes 1000 --queries 50
    python benchmarks/sweep.py --sizes 100000 --repeat 3 --no-save
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def rss_mb() -> float:
    """Return this process's resident memory in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def word_list() -> list[str]:
    """The clinic's words, then the 30,000 commonest English words (pyspellchecker's list).

    Made in the parent process, so the children measure no word list the worker doesn't hold.
    """
    from spellchecker import SpellChecker

    from faqbot.knowledge.corpus import load_corpus
    from faqbot.knowledge.passages import split_corpus

    common = sorted(SpellChecker().word_frequency.items(), key=lambda kv: -kv[1])
    words = [w for w, _ in common if w.isalpha() and len(w) > 2][:30000]
    clinic = sorted({w.lower().strip(".,") for p in split_corpus(load_corpus("corpus")[0]) for w in p.text.split()})
    return clinic + words  # the clinic's words are the commonest, as in a health library


def corpus(n: int, words: list[str], seed: int = 1):
    """Generate n passages drawn from words, and the random generator for the queries."""
    import numpy as np

    from faqbot.knowledge.passages import Passage

    rng = np.random.default_rng(seed)
    probs = 1 / np.arange(1, len(words) + 1) ** 0.9
    probs /= probs.sum()
    draws = rng.choice(len(words), size=(n, 60), p=probs)
    passages = [Passage(f"g{i}", f"doc{i // 8}", f"Article {i // 8}", None, " ".join(words[j] for j in row) + ".")
                for i, row in enumerate(draws)]
    return passages, rng


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return samples[len(samples) // 2], samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def run_size(n: int, queries: int, words: list[str]) -> dict:
    """Measure one corpus size (called in a child process)."""
    import faqbot.webapp.api  # noqa: F401  (what a worker imports: counted in worker_rss_mb)
    import numpy as np
    from rank_bm25 import BM25Plus

    from faqbot.answering.analysis import default_analyzer
    from faqbot.config import DEFAULTS, Settings
    from faqbot.answering.index import Index
    from faqbot.answering.pipeline import Bot

    out: dict = {"passages": n, "queries": queries, "libraries_rss_mb": rss_mb()}
    passages, rng = corpus(n, words)
    del words[3000:]  # only the commonest are drawn for queries; the rest is the benchmark's, not the worker's
    gc.collect()
    out["passages_mb"] = rss_mb() - out["libraries_rss_mb"]
    analyzer = default_analyzer()
    qs = [" ".join(rng.choice(words[:3000], size=5, replace=False)) for _ in range(queries)]

    base = rss_mb()
    started = time.perf_counter()
    bot = Bot(Settings.from_mapping(DEFAULTS), passages)
    out["served_build_s"] = time.perf_counter() - started
    gc.collect()
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
    gc.collect()
    out["worker_rss_mb"] = rss_mb()

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


def median_run(runs: list[dict]) -> dict:
    """Combine repeated runs of one size: the median of each figure, the range of build and RSS."""
    out = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, float):
            out[key] = statistics.median(r[key] for r in runs)
    out["runs"] = len(runs)
    for key in ("served_build_s", "worker_rss_mb"):
        out[key + "_range"] = [min(r[key] for r in runs), max(r[key] for r in runs)]
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
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=1, help="fresh processes per size; medians are reported")
    parser.add_argument("--no-save", action="store_true", help="print only; keep sweep.json and sweep.png")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--words", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        words = json.loads(Path(args.words).read_text())
        print(json.dumps(run_size(args.child, args.queries, words)))
        return
    with tempfile.NamedTemporaryFile("w", suffix=".json") as tmp:
        json.dump(word_list(), tmp)
        tmp.flush()
        results = []
        for n in (int(s) for s in args.sizes.split(",")):
            runs = []
            for _ in range(args.repeat):
                proc = subprocess.run([sys.executable, __file__, "--child", str(n), "--queries", str(args.queries),
                                       "--words", tmp.name], capture_output=True, text=True, check=True)
                runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            results.append(median_run(runs))
            print(f"measured {n} passages", file=sys.stderr)
    cols = ["passages", "served_build_s", "served_mb", "worker_rss_mb", "libraries_rss_mb", "passages_mb", "served_search_p50_ms",
            "served_search_p99_ms", "pipeline_p50_ms", "pipeline_p99_ms", "rank_bm25_build_s", "rank_bm25_mb",
            "rank_bm25_p50_ms", "rank_bm25_p99_ms", "identical_top5"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in results:
        print("| " + " | ".join(f"{r[c]:.3g}" if isinstance(r[c], float) else str(r[c]) for c in cols) + " |")
    if args.repeat > 1:
        for r in results:
            print(f"{r['passages']}: build {r['served_build_s_range'][0]:.2f}-{r['served_build_s_range'][1]:.2f} s, "
                  f"worker RSS {r['worker_rss_mb_range'][0]:.0f}-{r['worker_rss_mb_range'][1]:.0f} MB "
                  f"over {r['runs']} runs")
    if args.no_save:
        return
    (HERE / "sweep.json").write_text(json.dumps(results, indent=1))
    try:
        plot(results, HERE / "sweep.png")
    except ImportError:
        print("(pip install matplotlib for the plot)", file=sys.stderr)


if __name__ == "__main__":
    main()
