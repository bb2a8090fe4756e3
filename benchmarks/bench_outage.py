"""A long database outage under load: how many questions does the log lose?

Run: python benchmarks/bench_outage.py [--outage 600] [--rate 20] [--engine postgres|sqlite]
Serves the Procfile's command (2 workers) on a throwaway PostgreSQL (tests/servers.py) or SQLite
file, sends `--rate` chats a second (benchmarks/steady_load.py), takes the database away for
`--outage` seconds (PostgreSQL stopped; SQLite's write lock held by another process), brings it
back, and compares the chats answered with the rows in the question log once the spools are
written. Prints one line and stores it under "outage" in benchmarks/results.json.
"""
from __future__ import annotations

import argparse
import sqlite3
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_http import Server, procfile_command
from benchlib import REPO, child_env, save
from netutil import free_port
from steady_load import SteadyLoad

sys.path.insert(0, str(REPO / "tests"))
import servers  # noqa: E402  (the tests' throwaway PostgreSQL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=600.0, help="seconds without the database")
    parser.add_argument("--rate", type=float, default=20.0, help="chats a second")
    parser.add_argument("--engine", choices=["postgres", "sqlite"], default="postgres")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="faqbot-outage-"))
    env = child_env(str(folder / "f.sqlite3"), FAQBOT_ACCESS_LOG="false")
    pg = None
    if args.engine == "postgres":
        pg = servers.Postgres(Path(tempfile.mkdtemp(prefix="faqbot-pg-"))).start()  # a folder its user can reach
        env["FAQBOT_DATABASE_URL"] = pg.url()
    port = free_port()
    server = Server("faqbot", procfile_command(port, environ=env), env, f"http://127.0.0.1:{port}/readyz",
                    f"http://127.0.0.1:{port}/api/chat", folder / "server.log")
    server.start(workers=2)
    locker = None
    try:
        with SteadyLoad(port, "Can remedial massage help with back pain?", rate=args.rate) as load:
            time.sleep(5)
            down = time.monotonic()
            if pg:
                pg.stop("immediate")
            else:
                locker = sqlite3.connect(folder / "f.sqlite3", isolation_level=None)
                locker.execute("BEGIN EXCLUSIVE")
            time.sleep(args.outage)
            up = time.monotonic()
            if pg:
                pg.start()
            else:
                locker.execute("ROLLBACK")
                locker.close()
            time.sleep(10)
        answered = sum(o.status == 200 for o in load.outcomes)
        during = sorted(o.done - o.sent for o in load.outcomes if down <= o.sent < up)
        deadline, stored = time.monotonic() + 60, -1
        while time.monotonic() < deadline:
            stored = count(pg, folder)
            if stored >= answered:
                break
            time.sleep(1)
        result = {"engine": args.engine, "outage_s": args.outage, "rate": args.rate, "answered": answered,
                  "failed": len(load.failures()), "logged": stored, "lost": answered - stored,
                  "p50_ms_during": round(statistics.median(during) * 1000, 1),
                  "p99_ms_during": round(during[int(len(during) * 0.99)] * 1000, 1)}
        print(result)
        save("outage", result)
    finally:
        server.stop()
        if pg:
            pg.stop("immediate")
            shutil.rmtree(pg.folder, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)


def count(pg, folder: Path) -> int:
    if pg:
        import psycopg

        with psycopg.connect(pg.url()) as conn:
            return conn.execute("SELECT count(*) FROM questions").fetchone()[0]
    conn = sqlite3.connect(folder / "f.sqlite3", timeout=5)
    try:
        return conn.execute("SELECT count(*) FROM questions").fetchone()[0]
    finally:
        conn.close()


if __name__ == "__main__":
    main()
