"""faqbot against peers doing the same job, each served by the Procfile's command, under one load.

Run from anywhere: python benchmarks/peers.py [--rounds 5] [--duration 5] [--connections 8]
                   [--only bm25,faqbot] [--quick] [--json PATH]
Needs wrk (Debian: apt-get install -y wrk); the Haystack peer needs `pip install -e '.[bench]'`
and is skipped without it. Systems, each served on 127.0.0.1 by the Procfile's gunicorn command
(same workers, worker class and threads):

  const       the constant-JSON Flask app (benchmarks/const_app.py): what gunicorn and Flask cost
  bm25        a naive rank-bm25 bot (benchmarks/peer_apps/bm25_peer.py)
  haystack    a Haystack BM25 bot (benchmarks/peer_apps/haystack_peer.py)
  hybrid      rank-bm25 plus faqbot's embedding model, 0.5/0.5 (benchmarks/peer_apps/hybrid_peer.py)
  faqbot      faqbot as shipped (semantic layer on)
  faqbot-off  faqbot with FAQBOT_SEMANTIC=off

The load (benchmarks/peers_questions.json, see traffic()) is the same for every system: visits of
one to four messages with a session id, typed questions in typing variants so that none repeats
word for word within a run, and the starter questions, suggestion clicks and small talk that do
repeat in real traffic. Rounds are interleaved, each system's order rotating. Prints a Markdown
table of medians and the issue's targets, and stores the runs under "peers" in
benchmarks/results.json (--quick: 1 s runs, stored nowhere but --json).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import random
import shlex
import signal
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_http import (CONST_APP, Server, add_disturbance_options, procfile_command, reply_types, run_once,
                        worker_count, wrk_missing)
from benchlib import REPO, child_env, machine, save, table
from netutil import free_port

LUA = REPO / "benchmarks" / "peers.lua"
QUESTIONS = REPO / "benchmarks" / "peers_questions.json"
APPS = "benchmarks.peer_apps."
# name: (what it is, gunicorn app or None for faqbot, path loaded, path that answers once ready, env)
SYSTEMS = {
    "const": ("constant JSON Flask app", CONST_APP, "/const", "/const", {}),
    "bm25": ("naive rank-bm25 bot", APPS + "bm25_peer:app", "/api/chat", "/healthz", {}),
    "haystack": ("Haystack BM25 bot", APPS + "haystack_peer:app", "/api/chat", "/healthz", {}),
    "hybrid": ("rank-bm25 + MiniLM, 0.5/0.5", APPS + "hybrid_peer:app", "/api/chat", "/healthz", {}),
    "faqbot": ("faqbot, semantic on", None, "/api/chat", "/readyz", {}),
    "faqbot-off": ("faqbot, FAQBOT_SEMANTIC=off", None, "/api/chat", "/readyz", {"FAQBOT_SEMANTIC": "off"}),
}
# Typing variants of a typed question: how the same question arrives from different visitors.
PREFIXES = ("", "hi, ", "hello ", "Hi there. ", "quick question: ", "hey ", "sorry, ", "Hello! ", "um ")
SUFFIXES = ("", "?", " thanks", " please", "??", " thank you", "...", " pls", " :)")
MESSAGES = 30_000  # the sequence every system walks through (faqbot, the slowest, uses ~5,000 a run)
LANES = 16  # visits in progress at once (interleave)
KEYS = ("rps", "p50_ms", "p99_ms", "service_cpu_ms_per_request", "worker_cpu_ms_per_request")


def starters() -> list[str]:
    """The widget's starter questions, as faqbot's configuration gives them."""
    from faqbot.config import DEFAULTS  # benchlib put this checkout first on sys.path

    return list(DEFAULTS["STARTERS"])


def traffic(n: int = MESSAGES, seed: int = 22) -> list[dict]:
    """Return n chat request bodies: visitors' visits of one to four messages, one session id each.

    A visit may open with small talk (20%), asks one to three questions (the first a starter click
    25% of the time, a later one a suggestion click 30%), and may close with thanks or goodbye
    (25%). Typed questions go round the file in a shuffled order, each time in its next typing
    variant (case, a greeting before, a closing word after), so a typed message never repeats
    word for word until every variant of it has been sent; clicks and small talk repeat as sent.
    """
    data = json.loads(QUESTIONS.read_text("utf-8"))
    typed, openers, closers = data["typed"], data["smalltalk"]["openers"], data["smalltalk"]["closers"]
    clicks = starters(), data["clicks"]["suggestions"]
    rng = random.Random(seed)
    forms = [(case, p, s) for case in (False, True) for p in PREFIXES for s in SUFFIXES][1:]
    rng.shuffle(forms)
    forms.insert(0, (False, "", ""))  # a question's first use is as written
    used: dict[str, set[str]] = {q: set() for q in typed}
    form_at = dict.fromkeys(typed, 0)
    queue: list[str] = []

    def next_typed() -> str:
        if not queue:
            queue.extend(rng.sample(typed, len(typed)))
        q = queue.pop()
        for _ in range(len(forms)):
            lower, prefix, suffix = forms[form_at[q] % len(forms)]
            form_at[q] += 1
            text = q.lower() if lower else q
            text = prefix + (text.rstrip("?.! ") + suffix if suffix else text)
            if text not in used[q]:
                break  # (a lower-case question has half as many distinct forms: skip the same ones)
        used[q].add(text)
        return text

    visits: list[list[dict]] = []
    visit = total = 0
    while total < n:
        visit += 1
        messages = [rng.choice(openers)] if rng.random() < 0.2 else []
        for i in range(rng.choice((1, 1, 2, 3))):
            if i == 0 and rng.random() < 0.25:
                messages.append(rng.choice(clicks[0]))
            elif i > 0 and rng.random() < 0.3:
                messages.append(rng.choice(clicks[1]))
            else:
                messages.append(next_typed())
        if rng.random() < 0.25:
            messages.append(rng.choice(closers))
        visits.append([{"message": m, "session_id": f"visit-{visit:06d}"} for m in messages])
        total += len(messages)
    return interleave(visits)[:n]


def interleave(visits: list[list[dict]], lanes: int = LANES) -> list[dict]:
    """Send LANES visits side by side, a message of each in turn, so a visitor's next message comes
    LANES requests after the last: with 8 in flight it is answered first, as a real visitor waits
    for the reply, and the next one reads its conversation (sent back to back, the second message
    of a visit raced the first and usually found no history at all)."""
    bodies: list[dict] = []
    waiting, slots = list(reversed(visits)), [None] * lanes
    while waiting or any(slots):
        for lane, visit in enumerate(slots):
            if not visit and waiting:
                visit = slots[lane] = waiting.pop()  # a new visit takes the lane of one that ended
            if visit:
                bodies.append(visit.pop(0))
    return bodies


def repeat_share(bodies: list[dict], first: int) -> float:
    """Share of the first messages that repeat an earlier message word for word (what a cache can hit)."""
    seen, repeats = set(), 0
    for body in bodies[:first]:
        repeats += body["message"] in seen
        seen.add(body["message"])
    return repeats / max(1, min(first, len(bodies)))


def chosen(only: str | None) -> list[str]:
    """The systems to serve: --only's (plus const, the yardstick), Haystack only when installed."""
    names = list(SYSTEMS) if not only else ["const", *(n.strip() for n in only.split(",") if n.strip() != "const")]
    unknown = [n for n in names if n not in SYSTEMS]
    if unknown:
        raise SystemExit(f"peers: unknown system(s) {unknown}; choose from {', '.join(SYSTEMS)}")
    if "haystack" in names and importlib.util.find_spec("haystack") is None:
        print("peers: haystack-ai is not installed (pip install -e '.[bench]'): skipping the haystack peer",
              file=sys.stderr)
        names.remove("haystack")
    return names


def main(argv: list[str] | None = None) -> int:
    """Serve every system, load each in interleaved rounds, report and store the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="measured runs per system (interleaved)")
    parser.add_argument("--duration", type=float, default=5, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of unrecorded load before each run")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--only", help=f"comma-separated systems (const is always served): {','.join(SYSTEMS)}")
    add_disturbance_options(parser, retries=1)
    parser.add_argument("--quick", action="store_true", help="smoke test: one round of 1 s runs, not stored")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup, args.retries = 1, 1, 1, 0
    if wrk_missing("peers"):
        return 2
    names = chosen(args.only)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a plain kill still stops the servers
    bodies = traffic()

    with tempfile.TemporaryDirectory(prefix="faqbot-peers-") as tmp:
        tmp = Path(tmp)
        load = tmp / "bodies.jsonl"
        load.write_text("".join(json.dumps(b) + "\n" for b in bodies), "utf-8")
        servers: dict[str, Server] = {}
        for name in names:
            _, spec, path, ready, extra = SYSTEMS[name]
            port, folder = free_port(), tmp / name
            folder.mkdir()
            # Each faqbot its own database and instance folder (the embedding cache lives there);
            # child_env lifts the rate limits so one client address is not answered 429.
            env = child_env(str(folder / "faqbot.sqlite3"), PORT=str(port), FAQBOT_EMBEDDING_CACHE_DIR=str(folder),
                            **extra)
            base = f"http://127.0.0.1:{port}"
            servers[name] = Server(name, procfile_command(port, spec), env, base + ready, base + path,
                                   folder / "server.log")
        workers = worker_count(servers["const"].argv)
        runs: dict[str, list[dict]] = {n: [] for n in servers}
        try:
            started = time.monotonic()
            with ThreadPoolExecutor(len(servers)) as pool:  # start-ups overlap (the model loads take seconds)
                list(pool.map(lambda s: s.start(workers, timeout=120), servers.values()))
            print(f"{len(servers)} servers ready in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
            # One request of each kind, from the end of the sequence (no run gets that far), as a check.
            sample = [b["message"] for b in bodies[-40:]]
            types = {n: reply_types(s.target, sample) for n, s in servers.items() if n != "const"}
            for rnd in range(args.rounds):
                order = names[rnd % len(names):] + names[:rnd % len(names)]  # no system always first
                for name in order:
                    server = servers[name]
                    result = run_once(server, args.connections, args, script=LUA,
                                      script_args=(str(load), str(tmp / name / "position")))
                    runs[name].append(result)
                    print(f"round {rnd + 1} {name:10} {result['rps']:8.1f} req/s p50 {result['p50_ms']:6.2f} ms "
                          f"p99 {result['p99_ms']:7.2f} ms CPU {result['service_cpu_ms_per_request']:.3f} ms/req "
                          f"errors {result['failed']} other {result['other_cores']:.2f} cores",
                          file=sys.stderr, flush=True)
            memory = {n: s.memory() for n, s in servers.items()}
        finally:
            with ThreadPoolExecutor(len(servers)) as pool:
                list(pool.map(Server.stop, servers.values()))
        reached = {n: int((tmp / n / "position").read_text() or 0) if (tmp / n / "position").exists() else 0
                   for n in servers}

    results = summarise(args, servers, runs, memory, types, bodies, reached)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    if not args.quick:
        save("peers", results)
        print("\nresults stored under 'peers' in benchmarks/results.json")
    return 0


def summarise(args, servers, runs, memory, types, bodies, reached) -> dict:
    """Medians per system, ratios to the constant app, and the issue's targets."""
    rows = {}
    for name, results in runs.items():
        row = {k: statistics.median(r[k] for r in results) for k in KEYS}
        row.update(what=SYSTEMS[name][0], errors=sum(r["failed"] for r in results),
                   requests=sum(r["requests"] for r in results),
                   max_other_cores=max(r["other_cores"] for r in results),
                   worker_rss_mib=memory[name]["worker_rss_mib"], messages_sent=reached[name],
                   repeats_seen=round(repeat_share(bodies, reached[name]), 3))
        row["rps_vs_const"] = row["rps"] / statistics.median(r["rps"] for r in runs["const"])
        rows[name] = row
    return {
        "machine": machine(),
        "settings": {"rounds": args.rounds, "duration_s": args.duration, "warmup_s": args.warmup,
                     "connections": args.connections, "max_other_cores": args.max_other, "retries": args.retries,
                     "wrk": f"wrk -t1 -c{args.connections} --timeout 5s -s benchmarks/peers.lua",
                     "messages": len(bodies), "distinct_messages": len({b['message'] for b in bodies})},
        "commands": {n: s.argv for n, s in servers.items()},
        "env_overrides": {n: SYSTEMS[n][4] for n in servers},
        "reply_types": types,
        "summary": rows,
        "targets": targets(rows),
        "runs": runs,
    }


def targets(rows: dict) -> list[dict]:
    """The issue's targets that the systems served can be judged on."""
    out = []

    def check(name: str, needs: tuple[str, ...], value, goal, met) -> None:
        if all(n in rows for n in needs):
            out.append({"target": name, "value": value(), "goal": goal(), "met": bool(met())})

    on, off = rows.get("faqbot"), rows.get("faqbot-off")
    hybrid, haystack = rows.get("hybrid"), rows.get("haystack")
    cpu = "service_cpu_ms_per_request"
    check("semantic on: CPU/chat <= hybrid's + 0.5 ms", ("faqbot", "hybrid"), lambda: f"{on[cpu]:.2f} ms",
          lambda: f"<= {hybrid[cpu] + 0.5:.2f} ms", lambda: on[cpu] <= hybrid[cpu] + 0.5)
    check("semantic on: req/s >= 0.85x hybrid's", ("faqbot", "hybrid"), lambda: f"{on['rps'] / hybrid['rps']:.2f}x",
          lambda: ">= 0.85x", lambda: on["rps"] >= 0.85 * hybrid["rps"])
    check("semantic on: p99 <= 20 ms", ("faqbot",), lambda: f"{on['p99_ms']:.1f} ms", lambda: "<= 20 ms",
          lambda: on["p99_ms"] <= 20)
    check("semantic on: 0 errors", ("faqbot",), lambda: on["errors"], lambda: 0, lambda: on["errors"] == 0)
    check("semantic off: req/s >= Haystack's", ("faqbot-off", "haystack"),
          lambda: f"{off['rps'] / haystack['rps']:.2f}x", lambda: ">= 1x", lambda: off["rps"] >= haystack["rps"])
    check("semantic off: req/s >= 0.50x constant", ("faqbot-off",), lambda: f"{off['rps_vs_const']:.2f}x",
          lambda: ">= 0.50x", lambda: off["rps_vs_const"] >= 0.5)
    check("semantic off: CPU/chat <= 0.8 ms", ("faqbot-off",), lambda: f"{off[cpu]:.2f} ms", lambda: "<= 0.8 ms",
          lambda: off[cpu] <= 0.8)
    return out


def report(results: dict) -> None:
    """Print the Markdown tables."""
    s = results["settings"]
    print(f"## Peers: median of {s['rounds']} interleaved x {s['duration_s']:g} s wrk runs, "
          f"{s['connections']} connections, after {s['warmup_s']:g} s warm-up each\n")
    rows = [[name, r["what"], f"{r['rps']:.0f}", f"{r['rps_vs_const']:.2f}x", f"{r['p50_ms']:.2f}",
             f"{r['p99_ms']:.2f}", f"{r['service_cpu_ms_per_request']:.3f}", r["errors"],
             f"{r['worker_rss_mib']:.0f}", f"{r['max_other_cores']:.2f}"]
            for name, r in results["summary"].items()]
    print(table(["system", "what", "req/s", "vs const", "p50 ms", "p99 ms", "service CPU ms/req",
                 "errors + non-2xx", "workers RSS MiB", "other jobs, cores"], rows))
    if results["targets"]:
        print("\n## Targets (issue #22)\n")
        print(table(["target", "measured", "goal", "met?"],
                    [[t["target"], t["value"], t["goal"], "yes" if t["met"] else "**no**"] for t in results["targets"]]))
    faqbot = results["summary"].get("faqbot")
    print(f"\nload: {s['messages']} messages ({s['distinct_messages']} distinct) in visits with session ids; "
          + (f"of the {faqbot['messages_sent']} faqbot was sent, {faqbot['repeats_seen']:.0%} repeated an earlier "
             "one word for word (clicks and small talk)" if faqbot else ""))
    print(f"reply types of 40 messages: {results['reply_types']}")
    for name, argv in results["commands"].items():
        print(f"{name}: {shlex.join(argv)}  (env: {results['env_overrides'][name]})")


if __name__ == "__main__":
    sys.exit(main())
