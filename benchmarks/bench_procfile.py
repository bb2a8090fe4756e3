"""Two Procfile web commands side by side under wrk: e.g. the sync workers before and gthread after.

Run: python benchmarks/bench_procfile.py [--before REV] [--duration 5] [--rounds 3] [--connections 1,8,32]
Serves this checkout's faqbot under the Procfile of git revision REV (default HEAD's first parent
chain root used for the reliability work: the sync-worker command) and under the working tree's
Procfile, alternating which goes first, and prints the median req/s and latencies of each.
Traffic stays on 127.0.0.1; both servers are stopped with SIGTERM.
"""
from __future__ import annotations

import argparse
import json
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_http import Server, measure, worker_count, wrk
from benchlib import REPO, child_env
from netutil import free_port


def command(line: str, port: int) -> list[str]:
    text = line[len("web:"):].replace("$PORT", str(port))
    text = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: m[2], text)
    return [re.sub(r"^0\.0\.0\.0:", "127.0.0.1:", a) for a in shlex.split(text)]


def procfile_line(rev: str | None) -> str:
    text = (subprocess.run(["git", "show", f"{rev}:Procfile"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout if rev else (REPO / "Procfile").read_text("utf-8"))
    return next(ln for ln in text.splitlines() if ln.startswith("web:"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default="0d082be")
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", default="1,8,32")
    args = parser.parse_args()
    conns = [int(c) for c in args.connections.split(",")]
    lines = {"before": procfile_line(args.before), "after": procfile_line(None)}
    results: dict = {name: {c: [] for c in conns} for name in lines}
    with tempfile.TemporaryDirectory(prefix="faqbot-procfile-") as tmp:
        servers = {}
        for i, (name, line) in enumerate(lines.items()):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            servers[name] = Server(name, command(line, port), child_env(f"{tmp}/{name}.sqlite3", PORT=str(port),
                                   FAQBOT_ACCESS_LOG="false"), base + "/healthz", base + "/api/chat",
                                   Path(tmp) / f"{name}.log")
        try:
            for s in servers.values():
                s.start(worker_count(s.argv))
            for rnd in range(args.rounds):
                for c in conns:
                    order = list(servers) if (rnd + c) % 2 == 0 else list(servers)[::-1]
                    for name in order:
                        wrk(servers[name].target, c, 1)  # warm-up
                        r = measure(servers[name], c, args.duration)
                        results[name][c].append(r)
                        print(f"round {rnd + 1} {name:6} c={c:<3} {r['rps']:7.1f} req/s p50 {r['p50_ms']:.2f} "
                              f"p99 {r['p99_ms']:.2f} ms failed {r['failed']} other {r['other_cores']:.2f}",
                              file=sys.stderr, flush=True)
        finally:
            for s in servers.values():
                s.stop()
    print("| conns | command | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|")
    for c in conns:
        for name in servers:
            rs = results[name][c]
            med = {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50_ms", "p99_ms")}
            print(f"| {c} | {name} | {med['rps']:.0f} | {med['p50_ms']:.2f} | {med['p99_ms']:.2f} | "
                  f"{sum(r['failed'] for r in rs)} |")
    for name, line in lines.items():
        print(f"{name}: {line}")
    Path(tmp).parent.joinpath("bench_procfile.json").write_text(json.dumps(
        {"lines": lines, "runs": {n: {str(c): v for c, v in r.items()} for n, r in results.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
