"""Measure faqbot in process: start-up, the answer pipeline, and /api/chat via Flask's test client.

Run from anywhere: python benchmarks/bench_inprocess.py [--runs 5] [--calls 4000] [--client-calls 2000]
Prints Markdown tables and stores the numbers under "inprocess" in benchmarks/results.json.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchlib import REPO, UNLIMITED, child_env, machine, question_mix, save, summary, table

# Timed inside a fresh interpreter: an import cached by this process would read as free.
STARTUP_PROBE = """
import json, logging, sys, time
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
t0 = time.perf_counter()
import faqbot
t1 = time.perf_counter()
faqbot.create_app()
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "create_app_s": t2 - t1}))
"""
INDEXED = re.compile(r"indexed (\d+) passages in (\d+) ms")


def startup(runs: int, database: str) -> dict:
    """Time import and create_app() in fresh interpreters (one unrecorded run warms the disk cache)."""
    env = child_env(database)
    samples = []
    for i in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", STARTUP_PROBE], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120, check=True)
        wall = time.perf_counter() - started
        sample = json.loads(done.stdout.strip().splitlines()[-1])
        indexed = INDEXED.search(done.stderr)
        sample["index_ms"] = int(indexed.group(2)) if indexed else None
        sample["passages"] = int(indexed.group(1)) if indexed else None
        sample["process_s"] = wall
        if i:
            samples.append(sample)
    keys = ("import_s", "create_app_s", "process_s")
    medians = {k: statistics.median(s[k] for s in samples) for k in keys}
    medians["index_ms"] = statistics.median(s["index_ms"] for s in samples if s["index_ms"] is not None)
    return {"runs": samples, "median": medians, "passages": samples[-1]["passages"]}


@contextlib.contextmanager
def stderr_to(path: Path):
    """Send file descriptor 2 to a file for the duration."""
    # The app's per-request access log stays on, as in production, but lands in a file as it
    # would under gunicorn instead of scrolling over the report.
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def calls(questions: list[str], n: int, seed: int = 7) -> list[str]:
    """Return n questions: the mix repeated and shuffled so no path runs in a long streak."""
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        batch = list(questions)
        rng.shuffle(batch)
        out += batch
    return out[:n]


def pipeline_latency(app, questions: list[str], n: int) -> dict:
    """Time bot.reply() per call; group by the reply type as well as overall."""
    bot = app.extensions["faqbot"]
    for q in questions:  # warm caches (spelling, lru_cache'd data) before timing
        bot.reply(q, [])
    timings, by_type = [], defaultdict(list)
    for q in calls(questions, n):
        t0 = time.perf_counter_ns()
        reply = bot.reply(q, [])
        ms = (time.perf_counter_ns() - t0) / 1e6
        timings.append(ms)
        by_type[reply.type].append(ms)
    return {"all": summary(timings), "by_type": {t: summary(v) for t, v in sorted(by_type.items())}}


def client_latency(app, questions: list[str], n: int) -> dict:
    """Time POST /api/chat through Flask's test client (validation, SQLite log, JSON included)."""
    client = app.test_client()
    for q in questions:
        client.post("/api/chat", json={"message": q})
    timings, statuses = [], defaultdict(int)
    for q in calls(questions, n, seed=11):
        t0 = time.perf_counter_ns()
        response = client.post("/api/chat", json={"message": q})
        timings.append((time.perf_counter_ns() - t0) / 1e6)
        statuses[response.status_code] += 1
    return {"all": summary(timings), "statuses": dict(statuses)}


def main(argv: list[str] | None = None) -> int:
    """Run the in-process benchmarks and report them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes timed for start-up")
    parser.add_argument("--calls", type=int, default=4000, help="bot.reply() calls timed")
    parser.add_argument("--client-calls", type=int, default=2000, help="test-client requests timed")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="faqbot-bench-") as tmp:
        database = str(Path(tmp) / "bench.sqlite3")
        boot = startup(args.runs, database)
        os.environ.update(UNLIMITED, FAQBOT_DATABASE=database)
        os.chdir(REPO)  # the default corpus directory is relative to the repository
        from faqbot import create_app

        with stderr_to(Path(tmp) / "app.log"):
            app = create_app()
            questions = question_mix()
            pipeline = pipeline_latency(app, questions, args.calls)
            client = client_latency(app, questions, args.client_calls)
            app.extensions["faqbot.store"].close()

    m = boot["median"]
    print(f"## Start-up (median of {args.runs} fresh processes, {boot['passages']} passages)\n")
    print(table(["import faqbot", "create_app() (corpus + index + db)", "of which index build",
                 "whole process (interpreter + import + create_app)"],
                [[f"{m['import_s'] * 1000:.0f} ms", f"{m['create_app_s'] * 1000:.0f} ms",
                  f"{m['index_ms']:.0f} ms", f"{m['process_s'] * 1000:.0f} ms"]]))
    print(f"\n## Latency in process ({len(questions)} distinct questions, shuffled)\n")
    rows = [["bot.reply(q, []) — all", pipeline["all"]["n"], pipeline["all"]["median"], pipeline["all"]["p90"],
             pipeline["all"]["p99"]]]
    rows += [[f"bot.reply — {t}", s["n"], s["median"], s["p90"], s["p99"]] for t, s in pipeline["by_type"].items()]
    rows += [["test client POST /api/chat", client["all"]["n"], client["all"]["median"], client["all"]["p90"],
              client["all"]["p99"]]]
    print(table(["path", "calls", "median ms", "p90 ms", "p99 ms"],
                [[r[0], r[1], *(f"{v:.3f}" for v in r[2:])] for r in rows]))
    print(f"\ntest client statuses: {client['statuses']}")
    save("inprocess", {"machine": machine(), "startup": boot, "questions": len(questions),
                       "pipeline_ms": pipeline, "test_client_ms": client})
    print("\nresults stored under 'inprocess' in benchmarks/results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
