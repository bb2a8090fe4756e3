"""What an operator asks of a worker: can it answer (/readyz), and how are its stores doing (/metrics)."""
from __future__ import annotations

import os

from flask import Response, current_app, jsonify


def states() -> dict:
    """This worker's state, read from what its last calls found: nothing here waits on a database."""
    bot, store = current_app.extensions["faqbot"], current_app.extensions["faqbot.store"]
    limits = current_app.extensions.get("faqbot.limiter")
    return {
        "checks": {"index": len(bot.index) > 0, "database": store.healthy()},
        # The meaning layer's state is reported, not required: without it BM25 still answers.
        "semantic": getattr(bot, "semantic_status", "off"),
        "question_log": current_app.extensions["faqbot.log"].state(),
        "limits": limits.state() if limits else "off",
    }


def readyz():
    """Report whether this worker can answer visitors: 200 while its index is loaded, 503 when not.

    The stores are reported, not required: with the database down the bot still answers (the
    question log waits in memory, see storage/spool.py), and a load balancer that took every
    instance out over it would turn a logging outage into a total one.
    """
    state = states()
    ready = state["checks"]["index"]
    return jsonify({"status": "ready" if ready else "unavailable", **state}), 200 if ready else 503


# name, type, help, value from (states, question log)
METRICS = [
    ("faqbot_up", "gauge", "1 while this worker can answer visitors (its index is loaded)",
     lambda s, q: int(s["checks"]["index"])),
    ("faqbot_database_up", "gauge", "1 while the database's last calls went through",
     lambda s, q: int(s["checks"]["database"])),
    ("faqbot_semantic_up", "gauge", "1 while the sentence-embedding model is in use",
     lambda s, q: int(s["semantic"] == "ok")),
    ("faqbot_rate_limits_local", "gauge", "1 while the shared rate-limit store fails and this worker counts alone",
     lambda s, q: int(s["limits"] == "local")),
    ("faqbot_question_log_spooling", "gauge", "1 while the database is not taking the question log's writes",
     lambda s, q: int(s["question_log"]["state"] == "spooling")),
    ("faqbot_question_log_pending", "gauge", "question-log rows waiting in this worker's memory",
     lambda s, q: q.pending),
    ("faqbot_question_log_written_total", "counter", "question-log rows this worker has written",
     lambda s, q: q.written),
    ("faqbot_question_log_lost_total", "counter", "question-log rows dropped: spool full, or refused as bad data",
     lambda s, q: q.lost),
]


def metrics():
    """This worker's state in Prometheus's text format.

    Per worker, labelled with its pid: a scrape reaches whichever worker accepts it, so with several
    workers the series of each appear in turn (sum or max them by pid in queries).
    """
    state, questions = states(), current_app.extensions["faqbot.log"]
    pid = os.getpid()
    lines = []
    for name, kind, text, value in METRICS:
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", f'{name}{{pid="{pid}"}} {value(state, questions)}']
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")
