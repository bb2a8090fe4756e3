"""What a restart costs visitors: SIGTERM then start, gunicorn's USR2 upgrade (faqbot upgrade), and SIGHUP, under load.

Run: python benchmarks/bench_restarts.py [--rounds 3] [--rate 20] [--semantic on|off]
Each round serves a fresh copy of the corpus with the Procfile's command (plus a --pid file), sends
steady_load.py's 20 chats/s (half kept alive, half new connections), adds an article to the
corpus on disk without reindexing (the "new release"), then restarts the server one way and keeps
the load on for 3 s. It prints, per way: chats, failed requests (no HTTP response, or not 200),
the longest stretch without an answer, and whether the new article was served afterwards.
Traffic stays on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench_http import Server, children, procfile_command
from benchlib import REPO, child_env
from netutil import free_port
from steady_load import SteadyLoad

sys.path.insert(0, str(REPO / "tests"))
from test_staff_reindex import CUPPING, NEW_DOC  # noqa: E402

from faqbot.upgrade import alive, upgrade, wait_for  # noqa: E402


def serve(folder: Path, port: int, semantic: str) -> Server:
    env = child_env(str(folder / "d.sqlite3"), PORT=str(port), FAQBOT_CORPUS_DIR=str(folder / "corpus"),
                    FAQBOT_ACCESS_LOG="false", FAQBOT_SEMANTIC=semantic, GUNICORN_CMD_ARGS=f"--pid {folder / 'pid'}")
    server = Server("faqbot", procfile_command(port), env, f"http://127.0.0.1:{port}/readyz",
                    f"http://127.0.0.1:{port}/api/chat", folder / f"server-{time.monotonic_ns()}.log")
    server.start(workers=2, timeout=180)
    return server


def one_round(way: str, rate: float, semantic: str) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"faqbot-restart-{way}-"))
    shutil.copytree(REPO / "corpus", folder / "corpus")
    port = free_port()
    servers = [serve(folder, port, semantic)]
    master = servers[0].proc.pid
    try:
        with SteadyLoad(port, CUPPING, rate=rate) as load:
            time.sleep(2)
            (folder / "corpus" / "900-cupping.md").write_text(NEW_DOC)
            began = time.monotonic()
            if way == "SIGTERM + start":
                servers[0].proc.send_signal(signal.SIGTERM)
                servers[0].proc.wait(60)
                exited = time.monotonic() - began
                servers.append(serve(folder, port, semantic))
                note = f"old server exited after {exited:.1f} s"
            elif way == "USR2 upgrade":
                new = upgrade(master, port, say=lambda _: None)
                note = f"new master ready, old one gone after {time.monotonic() - began:.1f} s"
                master = new
            else:  # SIGHUP: new workers forked from the same master
                old_workers = set(children(master))
                os.kill(master, signal.SIGHUP)
                wait_for(lambda: not (set(children(master)) & old_workers) and len(children(master)) >= 2, 60)
                note = f"old workers replaced after {time.monotonic() - began:.1f} s"
            done = time.monotonic()
            time.sleep(3)
        after = [o.detail for o in load.outcomes if o.sent > done]
        return {"way": way, "chats": len(load.outcomes), "failed": len(load.failures()),
                "errors": sorted({o.detail.split("(")[0] for o in load.failures()}), "gap": load.gap(),
                "new_article": f"{after.count('answer')}/{len(after)}", "note": note}
    finally:
        for server in servers:
            server.stop()
        if alive(master):
            os.kill(master, signal.SIGTERM)
            wait_for(lambda: not alive(master), 30)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--semantic", default="on", choices=("on", "off"))
    args = parser.parse_args()
    print("| way | round | chats | failed | errors | longest gap s | new article served after | note |")
    print("|---|---|---|---|---|---|---|---|")
    for rnd in range(1, args.rounds + 1):
        for way in ("SIGTERM + start", "USR2 upgrade", "SIGHUP"):
            r = one_round(way, args.rate, args.semantic)
            print(f"| {way} | {rnd} | {r['chats']} | {r['failed']} | {', '.join(r['errors']) or '-'} | "
                  f"{r['gap']:.2f} | {r['new_article']} | {r['note']} |", flush=True)
    print(f"load average: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
