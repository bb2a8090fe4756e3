"""Two instances against one under the same load, sharing a real PostgreSQL and Redis.

Usage: python benchmarks/instances.py [--duration 10] [--connections 8] [--repeat 3] [--no-save]

Starts a throwaway PostgreSQL and Redis on loopback (tests/servers.py; Debian's postgresql and
redis-server packages) and serves faqbot with the Procfile's command, WEB_CONCURRENCY workers each:
  sqlite  one instance on SQLite with in-memory limits (the default deployment)
  one     one instance on PostgreSQL + Redis, taking every connection
  two     two instances on PostgreSQL + Redis, the connections split between them as a
          round-robin balancer would
wrk drives /api/chat with chat.lua's question mix; rates are summed over the instances and the
worse p99 of the two is reported, with the CPU the whole service (servers, PostgreSQL, Redis) spent
per request. The three set-ups run in turn, in a rotating order, --repeat times; the medians are
printed and stored under "instances" in benchmarks/results.json.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
from pathlib import Path

from bench_http import Server, children, cpu_seconds, free_port, procfile_command, wrk
from benchlib import REPO, UNLIMITED, machine, save, table

sys.path.insert(0, str(REPO / "tests"))
import servers  # the tests' throwaway PostgreSQL and Redis


def start(name: str, env: dict, folder: Path, workers: int) -> Server:
    port = free_port()
    server = Server(name, procfile_command(port), env, f"http://127.0.0.1:{port}/healthz",
                    f"http://127.0.0.1:{port}/api/chat", folder / f"{name}.log")
    server.start(workers)
    return server


def service_cpu(targets: list[Server], backends: list[int]) -> float:
    """Return the CPU seconds used so far by the servers (master and workers) and the backends' processes."""
    pids = [pid for s in targets for pid in (s.proc.pid, *children(s.proc.pid))]
    pids += [pid for root in backends for pid in (root, *children(root))]
    return sum(cpu_seconds(pid) for pid in pids)


def load(targets: list[Server], connections: int, seconds: float, backends: list[int] = ()) -> dict:
    """Load the servers at once, splitting the connections; sum the rates, keep the worst p99.

    Also the CPU the service spent per request (its servers plus PostgreSQL and Redis): on a shared
    2-core machine requests/s move with whatever else runs, CPU per request much less.
    """
    cpu0 = service_cpu(targets, backends)
    results: list[dict] = [{} for _ in targets]
    share = [connections // len(targets) + (i < connections % len(targets)) for i in range(len(targets))]

    def run(i: int) -> None:
        results[i] = wrk(targets[i].target, share[i], seconds)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(targets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    requests = sum(r["requests"] for r in results)
    return {"rps": sum(r["rps"] for r in results), "p50_ms": max(r["p50_ms"] for r in results),
            "p99_ms": max(r["p99_ms"] for r in results), "failed": sum(r["failed"] for r in results),
            "requests": requests, "cpu_ms": (service_cpu(targets, backends) - cpu0) * 1000 / max(requests, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    if not (shutil.which("wrk") and servers.have_postgres() and servers.have_redis()):
        sys.exit("needs wrk, postgresql and redis-server (apt-get install -y wrk postgresql redis-server)")
    workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
    scratch = Path(tempfile.mkdtemp(prefix="faqbot-instances-"))
    pg_folder = Path(tempfile.mkdtemp(prefix="faqbot-pg-"))
    pg = servers.Postgres(pg_folder).start()
    redis = servers.Redis(scratch / "redis").start()
    base = {**{k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_")}, **UNLIMITED,
            "PYTHONPATH": str(REPO), "FAQBOT_ACCESS_LOG": "false"}
    shared = {**base, "DATABASE_URL": pg.url(), "FAQBOT_RATELIMIT_STORAGE_URI": redis.url}
    running: list[Server] = []
    backends = [int((pg.data / "postmaster.pid").read_text().split()[0]), redis.process.pid]
    try:
        setups = {"sqlite": [start("sqlite", {**base, "FAQBOT_DATABASE": str(scratch / "one.sqlite3")}, scratch,
                                   workers)],
                  "one": [start("one", shared, scratch, workers)],
                  "two": [start("two-a", shared, scratch, workers), start("two-b", shared, scratch, workers)]}
        running = [s for group in setups.values() for s in group]
        names = list(setups)
        runs: dict[str, list[dict]] = {name: [] for name in names}
        for r in range(args.repeat):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                load(setups[name], args.connections, 2)  # warm up
                runs[name].append(load(setups[name], args.connections, args.duration, backends))
                last = runs[name][-1]
                print(f"round {r + 1} {name:6} {last['rps']:8.1f} req/s  p50 {last['p50_ms']:.2f} ms  "
                      f"p99 {last['p99_ms']:.2f} ms  service CPU {last['cpu_ms']:.2f} ms/req  "
                      f"failed {last['failed']}", flush=True)
    finally:
        for server in running:
            server.stop()
        redis.stop()
        pg.stop("fast")
        shutil.rmtree(pg_folder, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    medians = {name: {key: statistics.median(run[key] for run in rs) for key in ("rps", "p50_ms", "p99_ms", "cpu_ms")}
               | {"failed": sum(run["failed"] for run in rs), "runs": rs} for name, rs in runs.items()}
    label = {"sqlite": "1 instance, SQLite + memory limits", "one": "1 instance, PostgreSQL + Redis",
             "two": "2 instances, PostgreSQL + Redis"}
    print(f"\n{args.connections} connections, {workers} workers per instance, {args.duration:g} s x "
          f"{args.repeat}, medians:\n")
    print(table(["set-up", "req/s", "vs 1 instance on PostgreSQL", "p50 ms", "p99 ms", "service CPU ms/request",
                 "failed"],
                [[label[n], f"{m['rps']:.0f}", f"{m['rps'] / medians['one']['rps']:.2f}x", f"{m['p50_ms']:.2f}",
                  f"{m['p99_ms']:.2f}", f"{m['cpu_ms']:.2f}", m["failed"]] for n, m in medians.items()]))
    if not args.no_save:
        save("instances", {"machine": machine(), "connections": args.connections,
                           "workers_per_instance": workers, "duration_s": args.duration, "repeat": args.repeat,
                           "results": medians})
    return 1 if any(m["failed"] for m in medians.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
