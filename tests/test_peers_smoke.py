"""A short run of benchmarks/peers.py: every system served and loaded, each with zero errors.

Timings are not asserted (the full run is for docs/benchmarks.md). faqbot with the semantic layer
on is left out (its start-up embeds the corpus; other tests cover it); the Haystack peer runs only
where haystack-ai is installed (the `bench` extra, not `test`).
"""
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SUBSET = ["bm25", "hybrid", "faqbot-off"] + (["haystack"] if importlib.util.find_spec("haystack") else [])

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)")


def table_rows(stdout: str) -> dict[str, list[str]]:
    """The cells of the first Markdown table after the '## Peers' heading, by system name."""
    lines = stdout.split("## Peers", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| system"))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells
    return rows


def test_quick_peers_run_serves_every_system_with_positive_throughput_and_no_errors(tmp_path):
    results = REPO / "benchmarks" / "results.json"
    stored = results.read_bytes() if results.exists() else None
    out = tmp_path / "peers.json"
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "peers.py"), "--quick", "--only", ",".join(SUBSET),
                          "--json", str(out)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    header = ["system", "what", "req/s", "vs const", "p50 ms", "p99 ms", "service CPU ms/req", "errors + non-2xx"]
    assert run.stdout.split("## Peers", 1)[1].splitlines()[2].startswith("| " + " | ".join(header))
    rows = table_rows(run.stdout)
    assert set(rows) == {"const", *SUBSET}, run.stdout
    for name, cells in rows.items():
        assert float(cells[2]) > 0, cells  # req/s
        assert cells[7] == "0", cells  # errors + non-2xx
        assert float(cells[6]) > 0, cells  # service CPU per request was measured
    summary = json.loads(out.read_text("utf-8"))
    for name, types in summary["reply_types"].items():
        assert not any(kind.startswith("HTTP") for kind in types), (name, types)
    assert results.exists() == (stored is not None) and (stored is None or results.read_bytes() == stored), \
        "--quick must not overwrite the stored benchmark results"


def test_a_visitors_next_message_waits_for_the_other_visits_under_way():
    # Sent back to back, a visit's second message raced its first and found no conversation.
    sys.path.insert(0, str(REPO / "benchmarks"))
    import peers

    visits = [[{"message": f"{v}-{i}", "session_id": f"visit-{v}"} for i in range(n)]
              for v, n in enumerate([1, 3, 2, 4, 1, 2] * 10)]
    bodies = peers.interleave([list(v) for v in visits], lanes=4)
    assert sorted(b["message"] for b in bodies) == sorted(m["message"] for v in visits for m in v)
    seen: dict[str, int] = {}
    gaps = []
    for at, body in enumerate(bodies):
        if body["session_id"] in seen:
            assert body["message"].split("-")[1] == str(int(bodies[seen[body["session_id"]]]["message"].split("-")[1]) + 1)
            if at < len(bodies) // 2:  # while every lane is busy (at the end they empty one by one)
                gaps.append(at - seen[body["session_id"]])
        seen[body["session_id"]] = at
    assert gaps and set(gaps) == {4}
