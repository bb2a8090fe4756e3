"""Load faqbot's /api/chat and a constant-JSON Flask app, both served by the Procfile's command.

Run from anywhere: python benchmarks/bench_http.py [--duration 10] [--quick]
Needs wrk (Debian: apt-get install -y wrk). Traffic stays on 127.0.0.1; the servers are
stopped with SIGTERM before the script exits. Prints Markdown tables and stores the numbers
under "http" in benchmarks/results.json ("http_quick" for --quick). --variant LABEL:ENV=VALUE
serves faqbot once more with other settings, side by side, to price one feature; --tree
LABEL=PATH serves the faqbot of another checkout (e.g. a git worktree of an earlier commit, with its
own code and corpus) under this Procfile's command, side by side, for a before/after (both stored
under "http_variants").
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from benchlib import REPO, child_env, machine, save, table
from netutil import free_port

from faqbot.upgrade import children  # noqa: E402  (the tests import it from here too)

LUA = REPO / "benchmarks" / "chat.lua"
CONST_APP = "benchmarks.const_app:app"
VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")
TICK = os.sysconf("SC_CLK_TCK")


def procfile_command(port: int, app_spec: str | None = None, environ: dict | None = None) -> list[str]:
    """Return the Procfile's web command as argv, on a loopback port, optionally serving another app.

    Its ${VARIABLES} (WEB_CONCURRENCY...) are filled from environ, the server's environment (default:
    this process's), as the platform's shell would.
    """
    line = next(ln for ln in (REPO / "Procfile").read_text("utf-8").splitlines() if ln.startswith("web:"))
    env = {**(os.environ if environ is None else environ), "PORT": str(port)}

    def expand(token: str) -> str:
        return VARIABLE.sub(lambda m: env.get(m[1] or m[3]) or (m[2] or ""), token)

    argv = [expand(t) for t in shlex.split(line[len("web:"):])]
    # Same flags, but never listen beyond this machine while a load generator runs.
    argv = [re.sub(r"^0\.0\.0\.0:", "127.0.0.1:", a) for a in argv]
    if app_spec:
        argv[-1] = app_spec
    return argv


def worker_count(argv: list[str]) -> int:
    """Return the --workers (-w) value of a gunicorn command line (gunicorn's default is 1)."""
    for flag, value in zip(argv, argv[1:]):
        if flag in ("--workers", "-w"):
            return int(value)
    match = next((a for a in argv if a.startswith("--workers=")), None)
    return int(match.split("=", 1)[1]) if match else 1


def memory_kib(pid: int) -> dict:
    """Return a process's RSS and PSS in KiB (PSS splits pages shared after --preload's fork)."""
    values = {}
    for name, key in (("status", "VmRSS"), ("smaps_rollup", "Pss")):
        try:
            for line in (Path("/proc") / str(pid) / name).read_text().splitlines():
                if line.startswith(key + ":"):
                    values[key.lower()] = int(line.split()[1])
                    break
        except OSError:
            pass
    return {"rss": values.get("vmrss", 0), "pss": values.get("pss", 0)}


def cpu_seconds(pid: int) -> float:
    """Return a process's user + system CPU seconds so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def machine_busy_seconds() -> float:
    """Return the CPU seconds all cores have spent busy since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICK


def children_cpu_seconds() -> float:
    """Return the CPU seconds of this script's finished children (wrk runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Server:
    """One gunicorn master with its workers, started and stopped by this script."""

    def __init__(self, name: str, argv: list[str], env: dict, ready_url: str, target: str, log: Path,
                 cwd: Path = REPO):
        self.name, self.argv, self.env, self.log, self.cwd = name, argv, env, log, cwd
        self.url, self.target = ready_url, target
        self.proc: subprocess.Popen | None = None

    def start(self, workers: int, timeout: float = 60) -> None:
        """Start the server and wait until every worker is forked and a request succeeds."""
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log}:\n"
                                   + self.log.read_text(errors="replace")[-2000:])
            if len(children(self.proc.pid)) >= workers:
                try:
                    with urllib.request.urlopen(self.url, timeout=2) as response:
                        if response.status == 200:
                            return
                except OSError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready in {timeout:.0f} s; see {self.log}")

    def memory(self) -> dict:
        """Return the workers' summed RSS and PSS, and the master's RSS, in MiB."""
        workers = [memory_kib(pid) for pid in children(self.proc.pid)]
        master = memory_kib(self.proc.pid)
        return {"workers": len(workers), "worker_rss_mib": sum(w["rss"] for w in workers) / 1024,
                "worker_pss_mib": sum(w["pss"] for w in workers) / 1024, "master_rss_mib": master["rss"] / 1024}

    def cpu(self) -> tuple[float, float]:
        """Return the CPU seconds used so far by the workers, and by the master."""
        return sum(cpu_seconds(pid) for pid in children(self.proc.pid)), cpu_seconds(self.proc.pid)

    def stop(self, timeout: float = 30) -> None:
        """Stop gracefully with SIGTERM; SIGKILL the group only if it outlives the grace period."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def wrk(url: str, connections: int, seconds: float, script: Path = LUA, script_args: tuple[str, ...] = ()) -> dict:
    """Run wrk against url and return its summary with requests/s and latencies in ms.

    script is a wrk Lua script that prints chat.lua's WRKJSON line; script_args go to its init().
    """
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s",
            "-s", str(script), url, *(["--", *script_args] if script_args else [])]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=True)
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON "))
    raw = json.loads(line[len("WRKJSON "):])
    lat = raw["latency_us"]
    return {
        "connections": connections,
        "requests": raw["requests"],
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": lat["p50"] / 1000, "p90_ms": lat["p90"] / 1000, "p99_ms": lat["p99"] / 1000,
        "max_ms": lat["max"] / 1000,
        "errors": raw["errors"],
        "failed": sum(raw["errors"].values()),
    }


def measure(server: Server, connections: int, seconds: float, **wrk_options) -> dict:
    """Run wrk once and add what it cost: worker (and master) CPU per request, and CPU anything else took."""
    # Requests per second on a shared 2-core machine move with whatever else runs; worker CPU
    # per request barely does, so its ratio is the steadier estimate of relative capacity.
    workers0, master0 = server.cpu()
    busy0, wrk0, t0 = machine_busy_seconds(), children_cpu_seconds(), time.monotonic()
    result = wrk(server.target, connections, seconds, **wrk_options)
    wall = time.monotonic() - t0
    workers1, master1 = server.cpu()
    busy, load_cpu = machine_busy_seconds() - busy0, children_cpu_seconds() - wrk0
    served = workers1 - workers0 + master1 - master0
    result["worker_cpu_ms_per_request"] = (workers1 - workers0) * 1000 / max(result["requests"], 1)
    result["service_cpu_ms_per_request"] = served * 1000 / max(result["requests"], 1)  # master included
    result["wrk_cores"] = load_cpu / wall
    result["server_cores"] = served / wall
    # Cores busy with neither this server nor wrk: another job disturbing the measurement.
    result["other_cores"] = max(0.0, busy - served - load_cpu) / wall
    return result


def reply_types(url: str, questions: list[str] | None = None) -> dict:
    """Send each question (chat.lua's by default) once and count the reply types (a check that it answers)."""
    if questions is None:
        questions = re.findall(r'^\s*"(.*)",$', LUA.read_text("utf-8"), re.M)
    counts: dict[str, int] = {}
    for q in questions:
        request = urllib.request.Request(url, data=json.dumps({"message": q}).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                kind = json.load(response)["type"]
        except urllib.error.HTTPError as exc:  # counted, so a refusing server shows in the report
            kind = f"HTTP {exc.code}"
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def median_of(runs: list[dict], key: str) -> float:
    """Return the median of one measure over repeated runs."""
    return statistics.median(r[key] for r in runs)


def parse_variant(text: str) -> tuple[str, dict]:
    """Parse LABEL:KEY=VALUE[,KEY=VALUE] into a label and environment overrides."""
    label, _, pairs = text.partition(":")
    env = dict(p.split("=", 1) for p in pairs.split(",") if "=" in p)
    if not label or not env:
        raise argparse.ArgumentTypeError(f"expected LABEL:KEY=VALUE[,KEY=VALUE], got {text!r}")
    return f"chat[{label}]", env


def run_once(server: Server, connections: int, args, **wrk_options) -> dict:
    """Warm up, measure, and measure again (up to --retries times) while another job disturbs it."""
    for attempt in range(args.retries + 1):
        wrk(server.target, connections, args.warmup, **wrk_options)
        result = measure(server, connections, args.duration, **wrk_options)
        result["attempts"] = attempt + 1
        if result["other_cores"] <= args.max_other:
            break
        print(f"  {server.name} c={connections}: other jobs took {result['other_cores']:.2f} cores, "
              f"{'measuring again' if attempt < args.retries else 'keeping it'}", file=sys.stderr, flush=True)
        if attempt < args.retries:
            time.sleep(5)  # let the other job pass (pointless when no retry follows)
    return result


def add_disturbance_options(parser: argparse.ArgumentParser, retries: int) -> None:
    """Add run_once's --max-other and --retries: when another job disturbs a run, and how often to repeat it."""
    parser.add_argument("--max-other", type=float, default=0.3,
                        help="cores other jobs may use before a run counts as disturbed and is repeated")
    parser.add_argument("--retries", type=int, default=retries, help="repeats of a disturbed run")


def wrk_missing(prog: str) -> bool:
    """Say so on stderr when wrk is not installed."""
    if shutil.which("wrk") is None:
        print(f"{prog}: wrk is not installed (Debian: apt-get install -y wrk)", file=sys.stderr)
        return True
    return False


def parse_tree(text: str) -> tuple[str, Path]:
    """Parse LABEL=PATH into a server name and the checkout to serve faqbot from."""
    label, _, path = text.partition("=")
    if not label or not path or not (Path(path) / "faqbot").is_dir():
        raise argparse.ArgumentTypeError(f"expected LABEL=PATH to a checkout with a faqbot/ folder, got {text!r}")
    return f"chat[{label}]", Path(path).resolve()


def main(argv: list[str] | None = None) -> int:
    """Serve both apps, load each with wrk side by side, report and store the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of unrecorded load before each run")
    parser.add_argument("--rounds", type=int, default=3, help="measured runs per app and connection count")
    parser.add_argument("--connections", default="1,8,32", help="comma-separated wrk connection counts")
    add_disturbance_options(parser, retries=2)
    parser.add_argument("--variant", type=parse_variant, action="append", default=[],
                        help="also serve faqbot with env overrides, e.g. nolimit:FAQBOT_RATELIMIT_ENABLED=false")
    parser.add_argument("--tree", type=parse_tree, action="append", default=[],
                        help="also serve the faqbot of another checkout, e.g. before=/tmp/faqbot-before")
    parser.add_argument("--quick", action="store_true", help="smoke test: 2 s runs, 1 s warm-up, one round")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.rounds, args.retries = 2, 1, 1, 0
    if wrk_missing("bench_http"):
        return 2
    conns = [int(c) for c in args.connections.split(",")]
    # A plain kill must still reach the finally below, which stops the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    apps = [("const", CONST_APP, "/const", "/const", {}, REPO), ("chat", None, "/api/chat", "/healthz", {}, REPO)]
    apps += [(name, None, "/api/chat", "/healthz", env, REPO) for name, env in args.variant]
    apps += [(name, None, "/api/chat", "/healthz", {"PYTHONPATH": str(tree)}, tree) for name, tree in args.tree]

    with tempfile.TemporaryDirectory(prefix="faqbot-http-") as tmp:
        tmp = Path(tmp)
        servers: dict[str, Server] = {}
        for i, (name, spec, path, ready, extra, cwd) in enumerate(apps):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            env = child_env(str(tmp / f"faqbot-{i}.sqlite3"), PORT=str(port), **extra)
            servers[name] = Server(name, procfile_command(port, spec), env, base + ready, base + path,
                                   tmp / f"server-{i}.log", cwd)
        chats = [n for n in servers if n != "const"]
        workers = worker_count(servers["chat"].argv)
        runs: dict[str, dict[int, list[dict]]] = {n: {c: [] for c in conns} for n in servers}
        try:
            for server in servers.values():
                server.start(workers)
            types = {n: reply_types(servers[n].target) for n in chats}
            before = {n: s.memory() for n, s in servers.items()}
            names = list(servers)
            for rnd in range(args.rounds):
                for ci, c in enumerate(conns):
                    # Rotate which app goes first so a drifting machine biases none of them.
                    shift = (rnd + ci) % len(names)
                    for name in names[shift:] + names[:shift]:
                        result = run_once(servers[name], c, args)
                        runs[name][c].append(result)
                        print(f"round {rnd + 1} {name:5} c={c:<3} {result['rps']:8.1f} req/s "
                              f"p50 {result['p50_ms']:.2f} ms p99 {result['p99_ms']:.2f} ms "
                              f"failed {result['failed']} worker CPU {result['worker_cpu_ms_per_request']:.3f} ms/req "
                              f"other {result['other_cores']:.2f} cores", file=sys.stderr, flush=True)
            after = {n: s.memory() for n, s in servers.items()}
            rows = {n: db_rows(Path(servers[n].env["FAQBOT_DATABASE"])) for n in chats}
        finally:
            for server in servers.values():
                server.stop()

    report(args, servers, conns, runs, before, after, types, rows)
    return 0


def db_rows(path: Path) -> dict:
    """Count what the load wrote to faqbot's database (proof that every chat did real work)."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("sessions", "questions")}


def report(args, servers, conns, runs, before, after, types, rows) -> None:
    """Print the Markdown tables and store the raw runs with their medians."""
    keys = ("rps", "p50_ms", "p99_ms", "worker_cpu_ms_per_request")
    cells, load_rows = [], []
    for c in conns:
        base = {k: median_of(runs["const"][c], k) for k in keys}
        for name in servers:
            results = runs[name][c]
            cell = {"app": name, "connections": c, **{k: median_of(results, k) for k in keys},
                    "failed": sum(r["failed"] for r in results),
                    "max_other_cores": max(r["other_cores"] for r in results)}
            cell["rps_vs_const"] = cell["rps"] / base["rps"]
            cell["cpu_vs_const"] = base["worker_cpu_ms_per_request"] / cell["worker_cpu_ms_per_request"]
            cells.append(cell)
            ratio = "1" if name == "const" else f"**{cell['rps_vs_const']:.2f}x**"
            cpu_ratio = "1" if name == "const" else f"{cell['cpu_vs_const']:.2f}x"
            load_rows.append([c, name, f"{cell['rps']:.0f}", ratio, f"{cell['p50_ms']:.2f}", f"{cell['p99_ms']:.2f}",
                              cell["failed"], f"{cell['worker_cpu_ms_per_request']:.3f}", cpu_ratio,
                              f"{cell['max_other_cores']:.2f}"])
    print(f"## HTTP: gunicorn (Procfile command), median of {args.rounds} x {args.duration:g} s wrk runs "
          f"after {args.warmup:g} s warm-up each\n")
    print(table(["conns", "app", "req/s", "req/s vs const", "p50 ms", "p99 ms", "errors + non-2xx",
                 "worker CPU ms/req", "CPU capacity vs const", "other jobs, cores"], load_rows))
    noisy = max(cell["max_other_cores"] for cell in cells)
    if noisy > args.max_other:
        print(f"\nWarning: other jobs kept up to {noisy:.2f} cores busy during a kept run; req/s and "
              "latencies of such runs are skewed, worker CPU per request much less so.")
    print("\n## Worker memory (sum over gunicorn workers; PSS counts pages shared after the fork once)\n")
    mem_rows = [[n, before[n]["workers"], f"{before[n]['worker_rss_mib']:.1f}", f"{after[n]['worker_rss_mib']:.1f}",
                 f"{before[n]['worker_pss_mib']:.1f}", f"{after[n]['worker_pss_mib']:.1f}",
                 f"{after[n]['master_rss_mib']:.1f}"] for n in servers]
    print(table(["app", "workers", "RSS before MiB", "RSS after MiB", "PSS before MiB", "PSS after MiB",
                 "master RSS MiB"], mem_rows))
    print()
    for name, server in servers.items():
        extra = {k: v for k, v in server.env.items() if k.startswith("FAQBOT_") and k != "FAQBOT_DATABASE"}
        print(f"{name} server: {shlex.join(server.argv)}  (env: {extra})")
    print(f"reply types of chat.lua's questions: {types}; rows written by the load: {rows}")
    # A smoke test or a diagnostic run must not overwrite the numbers the README quotes.
    section = "http_quick" if args.quick else "http_variants" if args.variant or args.tree else "http"
    save(section, {
        "machine": machine(),
        "settings": {"duration_s": args.duration, "warmup_s": args.warmup, "rounds": args.rounds,
                     "max_other_cores": args.max_other, "retries": args.retries,
                     "wrk": "wrk -t1 --timeout 5s -s benchmarks/chat.lua"},
        "commands": {n: s.argv for n, s in servers.items()},
        "env_overrides": {n: {k: v for k, v in s.env.items() if k.startswith("FAQBOT_") and k != "FAQBOT_DATABASE"}
                          for n, s in servers.items()},
        "reply_types": types,
        "db_rows": rows,
        "summary": cells,
        "memory": {"before": before, "after": after},
        "runs": {n: {str(c): r for c, r in per.items()} for n, per in runs.items()},
    })
    print(f"\nresults stored under {section!r} in benchmarks/results.json")


if __name__ == "__main__":
    sys.exit(main())
