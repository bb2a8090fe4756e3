"""Cost of the meaning layer, side by side with BM25 alone, in one run (in-process).

    python benchmarks/bench_semantic.py [--rounds 3]

For each of semantic off / on: the time to build the bot (on: with an empty embedding cache, then
with a warm one), the process's RSS after building, and Bot.reply's median and p99 over every
distinct question of the evaluation files (each message new to the query cache, as a visitor's
first ask is; then again, all repeats). Rounds alternate off and on; medians of the rounds are printed.
Also the installed size of the packages the model needs (onnxruntime, tokenizers and what they pull in).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time, statistics, tempfile
sys.path.insert(0, sys.argv[1])
semantic, cache = sys.argv[2] == "on", sys.argv[3]
started = time.perf_counter()
from faqbot.config import DEFAULTS, Settings
from faqbot.building import build
bot = build(Settings.from_mapping({**DEFAULTS, "CORPUS_DIR": sys.argv[1] + "/corpus", "SEMANTIC": semantic,
                                   "EMBEDDING_CACHE_DIR": cache}))[0]
built = time.perf_counter() - started
questions = []
for path in sorted((__import__("pathlib").Path(sys.argv[1]) / "eval").glob("*.json")):
    for case in json.loads(path.read_text())["cases"]:
        questions += case.get("turns") or [case["q"]]
questions = list(dict.fromkeys(questions))
def timed():
    out = []
    for q in questions:
        t = time.perf_counter(); bot.reply(q); out.append((time.perf_counter() - t) * 1000)
    out.sort()
    return statistics.median(out), out[int(len(out) * 0.99)]
first = timed()
again = timed()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"build_s": built, "rss_mb": rss, "first_ms": first, "repeat_ms": again, "n": len(questions)}))
"""


def run(mode: str, cache: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(REPO), mode, cache], capture_output=True, text=True,
                         check=True, env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def installed_size(names: list[str]) -> float:
    """MB on disk of the named distributions' files."""
    from importlib.metadata import distribution
    total = 0
    for name in names:
        dist = distribution(name)
        for f in dist.files or []:
            p = Path(dist.locate_file(f))
            if p.is_file():
                total += p.stat().st_size
    return total / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows: dict[str, list[dict]] = {"off": [], "on, cold cache": [], "on, warm cache": []}
    for _ in range(args.rounds):
        rows["off"].append(run("off", ""))
        with tempfile.TemporaryDirectory() as cache:
            rows["on, cold cache"].append(run("on", cache))
            rows["on, warm cache"].append(run("on", cache))
    print(f"{'semantic':<16} {'build s':>8} {'RSS MB':>7} {'reply p50 ms':>13} {'p99':>7} {'repeat p50':>11} {'p99':>7}")
    for name, results in rows.items():
        med = lambda key, i=None: statistics.median(r[key] if i is None else r[key][i] for r in results)  # noqa: E731
        print(f"{name:<16} {med('build_s'):>8.2f} {med('rss_mb'):>7.0f} {med('first_ms', 0):>13.2f} "
              f"{med('first_ms', 1):>7.2f} {med('repeat_ms', 0):>11.2f} {med('repeat_ms', 1):>7.2f}")
    print(f"({results[0]['n']} distinct messages, medians of {args.rounds} rounds)")
    deps = ["onnxruntime", "tokenizers", "huggingface_hub", "flatbuffers", "protobuf", "fsspec", "filelock",
            "hf-xet", "httpx2", "httpcore2", "h11", "truststore"]
    model = sum(p.stat().st_size for p in (REPO / "faqbot" / "data" / "model").iterdir()) / 1e6
    print(f"installed for the model: {installed_size(deps):.0f} MB of packages + {model:.0f} MB of model files")


if __name__ == "__main__":
    main()
