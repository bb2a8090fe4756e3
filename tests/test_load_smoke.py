"""A short run of benchmarks/load.py against the Procfile's server: zero errors, not timings."""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_quick_load_run_has_no_errors_survives_a_killed_worker_and_stops_gracefully(tmp_path):
    out = tmp_path / "load.json"
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "load.py"), "--quick", "--json", str(out)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.exists(), run.stdout[-2000:] + run.stderr[-3000:]
    results = json.loads(out.read_text("utf-8"))
    for row in results["compare"]:
        assert row["chat"]["requests"] > 0 and row["chat"]["failed"] == 0, row
        assert row["const"]["failed"] == 0, row
    assert results["soak"]["requests"] > 0 and results["soak"]["failed"] == 0
    kill = results["kill"]
    assert kill["replaced_after_s"] is not None, "gunicorn did not replace the killed worker"
    # Only the requests in flight on the killed worker fail: with threaded workers (the Procfile's,
    # so that a slow client holds a thread, not a worker) that can be each open connection, no more.
    assert kill["errors"]["status"] == 0 and kill["failed"] <= kill["connections"], kill
    assert results["sigterm"]["in_flight_answered"] and results["sigterm"]["exit_code"] == 0
