"""Profile faqbot's gunicorn workers under wrk load with py-spy and rank where the time goes.

Run from anywhere: python benchmarks/profile_http.py [--duration 10] [--connections 8] [--top 30]
                   [--load peers] [--env FAQBOT_SEMANTIC=off]
Needs wrk and py-spy (pip install py-spy). Shares are of the samples taken while a worker was
busy (py-spy leaves idle waits out), summed over all workers.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

from bench_http import Server, free_port, procfile_command, worker_count, wrk
from benchlib import child_env, table
from peers import LUA as PEERS_LUA, traffic

LINE_NUMBER = re.compile(r":\d+\)$")
# Layers of the request path, recognised by a frame's function and file.
LAYERS = (("faqbot embedding (the model)", "(faqbot/answering/embedding.py"),
          ("faqbot meaning layer (vectors, banks, gate)", "(faqbot/answering/semantic.py"),
          ("faqbot meaning layer (vectors, banks, gate)", "(faqbot/answering/understanding.py"),
          ("faqbot spelling", "(faqbot/answering/spelling.py"),
          ("faqbot pipeline (Bot.reply)", "Bot.reply (faqbot/answering/pipeline.py"),
          ("faqbot storage (SQLite)", "(faqbot/storage/base.py"), ("faqbot storage (SQLite)", "(faqbot/storage/sqlite"),
          ("faqbot reply_json", "reply_json (faqbot/answering/pipeline.py"),
          ("faqbot api view, other", "(faqbot/webapp/api.py"),
          ("flask/werkzeug", "(flask/"), ("flask/werkzeug", "(werkzeug/"),
          ("rate limits (flask-limiter, limits)", "(flask_limiter/"), ("rate limits (flask-limiter, limits)", "(limits/"),
          ("logging (the access log)", "(faqbot/webapp/logs.py"), ("logging (the access log)", "(logging/"),
          ("faqbot security hooks", "(faqbot/webapp/security.py"),
          ("gunicorn", "(gunicorn/"))
LAYER_NAMES = {name for name, _ in LAYERS}


def aggregate(raw: Path) -> tuple[int, int, Counter, Counter, Counter]:
    """Read py-spy's collapsed stacks into sample counts: all, in requests, inclusive, self, by layer."""
    total = in_requests = 0
    inclusive, own, layers = Counter(), Counter(), Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue  # a truncated last line when py-spy was stopped mid-write
        n = int(count)
        total += n
        frames = [LINE_NUMBER.sub(")", f) for f in stack.split(";")]
        if not any("handle_request (gunicorn/" in f for f in frames):
            # Helper threads (e.g. a rate limiter's expiry timers) mostly wait; py-spy can't always
            # tell such a wait from work, so they are counted apart from the request path.
            layers["threads outside the request path"] += n
            continue
        in_requests += n
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
        # A sample belongs to the innermost layer it reached: its own code's cost, not its callers'.
        layer = next((name for f in reversed(frames) for name, mark in LAYERS if mark in f), "other")
        layers[layer] += n
    return total, in_requests, inclusive, own, layers


def main(argv: list[str] | None = None) -> int:
    """Serve faqbot as the Procfile does, load it, record every worker, print the rankings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds recorded under load")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=30, help="functions listed")
    parser.add_argument("--raw", type=Path, help="also keep py-spy's collapsed stacks here (flamegraph input)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="serve faqbot with this setting, e.g. FAQBOT_SEMANTIC=off (repeatable)")
    parser.add_argument("--load", choices=("chat", "peers"), default="chat",
                        help="chat.lua's 12 questions, or peers.py's visitor traffic (peers.lua)")
    args = parser.parse_args(argv)
    for tool in ("wrk", "py-spy"):
        if shutil.which(tool) is None:
            print(f"profile_http: {tool} is not installed", file=sys.stderr)
            return 2

    with tempfile.TemporaryDirectory(prefix="faqbot-prof-") as tmp:
        tmp = Path(tmp)
        port = free_port()
        env = child_env(str(tmp / "faqbot.sqlite3"), PORT=str(port), FAQBOT_EMBEDDING_CACHE_DIR=str(tmp),
                        **dict(kv.split("=", 1) for kv in args.env))
        options = {}
        if args.load == "peers":
            bodies = tmp / "bodies.jsonl"
            bodies.write_text("".join(json.dumps(b) + "\n" for b in traffic()), "utf-8")
            options = {"script": PEERS_LUA, "script_args": (str(bodies), str(tmp / "position"))}
        argv_ = procfile_command(port)
        base = f"http://127.0.0.1:{port}"
        server = Server("chat", argv_, env, base + "/healthz", base + "/api/chat", tmp / "chat.log")
        raw = tmp / "profile.txt"
        try:
            server.start(worker_count(argv_))
            wrk(server.target, args.connections, 2, **options)  # warm-up, unrecorded
            # Load for longer than py-spy records so every sample is taken under load.
            load = threading.Thread(target=wrk, args=(server.target, args.connections, args.duration + 3),
                                    kwargs=options)
            load.start()
            subprocess.run(["py-spy", "record", "--pid", str(server.proc.pid), "--subprocesses",
                            "--rate", str(args.rate), "--duration", str(round(args.duration)),
                            "--format", "raw", "--output", str(raw), "--nonblocking"],
                           check=True, capture_output=True, timeout=args.duration + 60)
            load.join()
        finally:
            server.stop()
        total, in_requests, inclusive, own, layers = aggregate(raw)
        if args.raw:
            shutil.copyfile(raw, args.raw)

    pct = lambda n: f"{100 * n / in_requests:.1f}%"  # noqa: E731
    print(f"## Where a busy worker's time goes ({in_requests} samples in requests, {total - in_requests} in "
          f"other threads; {args.connections} connections)\n")
    print("Shares are of the samples taken in the request path.\n")
    print(table(["layer (innermost reached)", "share"],
                [[k, pct(v) if k in LAYER_NAMES or k == "other" else f"({v} samples)"]
                 for k, v in layers.most_common()]))
    interesting = [(f, n) for f, n in inclusive.most_common() if "(faqbot/" in f or "nltk/" in f
                   or "dataclasses.py" in f or "Logger.access" in f or "limits/" in f or "Thread.start" in f]
    print(f"\n## faqbot functions, inclusive (with callees), top {args.top}\n")
    print(table(["function (file)", "share"], [[f, pct(n)] for f, n in interesting[: args.top]]))
    print(f"\n## Self time (the frame on top of the stack), top {args.top}\n")
    print(table(["function (file)", "share"], [[f, pct(n)] for f, n in own.most_common(args.top)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
