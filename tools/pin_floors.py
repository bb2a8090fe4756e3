"""Pin each evaluation file's floors at what the bot scores now (a regression guard, not a target).

    python tools/pin_floors.py eval/dev.json eval/fresh.json ...

Writes "thresholds" into each file: hit@1 and hit@3 rounded down to 0.01, and each kind's share
right rounded down to 0.01. `faqbot eval FILE` and tests/test_eval.py hold the bot to them. Run it
only after a change measured side by side on every set, and say in the commit which floors moved.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faqbot.config import DEFAULTS, Settings  # noqa: E402
from faqbot.evaluation.runner import evaluate  # noqa: E402
from faqbot.reindex import build  # noqa: E402


def down(x: float) -> float:
    return math.floor(x * 100 + 1e-9) / 100


def main(paths: list[str]) -> None:
    bot = build(Settings.from_mapping(DEFAULTS))[0]
    for path in map(Path, paths):
        report = evaluate(bot, path)
        floors: dict = {name: down(v) for name, v in (("hit@1", report.hit1), ("hit@3", report.hit3)) if v is not None}
        floors["kinds"] = {k: down(r / t) for k, (r, t) in report.by_kind().items() if k != "answer"}
        text = path.read_text("utf-8")
        old = json.loads(text).get("thresholds")
        line = f' "thresholds": {json.dumps(floors)},\n'
        lines = [ln for ln in text.splitlines(keepends=True) if not ln.lstrip().startswith('"thresholds": ')]
        # One line after the opening brace, so the diff of a re-pin is that line alone.
        path.write_text(lines[0] + line + "".join(lines[1:]), "utf-8")
        json.loads(path.read_text("utf-8"))  # still valid
        print(path, "was", old, "now", floors)


if __name__ == "__main__":
    main(sys.argv[1:])
