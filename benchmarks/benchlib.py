"""Helpers shared by the benchmark scripts: paths, the question mix, statistics, result files."""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results.json"
EVAL_FILE = REPO / "eval" / "questions.json"
# Measure the faqbot beside this folder, not whichever copy pip installed (an editable
# install may point at another checkout, e.g. when benchmarking a snapshot of a commit).
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
# One client address sends all the load: a per-address limit would answer 429s and measure
# the refusal path. A huge limit keeps the limiter's own per-request cost in the numbers.
UNLIMITED = {"FAQBOT_RATELIMIT_CHAT": "100000000/minute", "FAQBOT_RATELIMIT_FEEDBACK": "100000000/minute"}

# The evaluation holds only three urgent, five fallback and two small-talk questions;
# these widen the mix so the short-circuit paths weigh as they would in real traffic.
EXTRA = {
    "urgent": [
        "I have crushing chest pain going down my left arm",
        "my face is drooping and my speech is slurred",
        "I think I broke my wrist, the bone is sticking out",
    ],
    "fallback": [
        "Do you sell gift vouchers?",
        "can I claim this on my private health insurance",
        "asdf qwerty zxcv",
        "who won the football last night",
    ],
    "smalltalk": ["hi", "good morning", "goodbye", "who are you?", "thanks so much!"],
}


def child_env(database: str, **extra: str) -> dict:
    """Return the environment for a faqbot process: this repo first, a scratch database, no 429s."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, **UNLIMITED, "PYTHONPATH": path, "FAQBOT_DATABASE": database, **extra}


def source() -> dict:
    """Name the code measured: its commit, and whether faqbot/ or corpus/ had uncommitted edits."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                                  timeout=10, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"commit": git("rev-parse", "--short", "HEAD") or "unknown",
            "dirty": bool(git("status", "--porcelain", "--", "faqbot", "corpus", "web")),
            "path": str(REPO)}


def question_mix() -> list[str]:
    """Return every single-message question of the evaluation file plus the extra ones."""
    cases = json.loads(EVAL_FILE.read_text("utf-8"))["cases"]
    questions = [c["q"] for c in cases if "q" in c]
    # Multi-turn cases are judged in a session; here each turn stands alone as a first message.
    questions += [t for c in cases for t in c.get("turns", [])]
    return questions + [q for group in EXTRA.values() for q in group]


def percentile(values: list[float], pct: float) -> float:
    """Return the pct-th percentile by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: list[float]) -> dict:
    """Summarise timings (any unit) by count, median, p90, p99, mean and max."""
    return {
        "n": len(values),
        "median": statistics.median(values),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "mean": statistics.fmean(values),
        "max": max(values),
    }


def machine() -> dict:
    """Describe where the numbers were taken."""
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        # Another job on these 2 cores skews every number: the load average says whether one ran.
        "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "source": source(),
    }


def save(section: str, data: dict) -> None:
    """Store one script's results under its own key, keeping the other script's."""
    try:
        results = json.loads(RESULTS.read_text("utf-8"))
    except (OSError, ValueError):
        results = {}
    results[section] = data
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", "utf-8")


def table(header: list[str], rows: list[list]) -> str:
    """Render a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
