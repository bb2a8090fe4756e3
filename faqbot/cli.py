"""The faqbot command: serve, ask, eval, fit, check-corpus, import-article, reindex, export-corpus, upgrade."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .cli_common import build_bot, settings
from .cli_corpus import check_corpus, export_corpus, import_article, reindex
from .cli_text import explain_lines, print_reply
from .knowledge.corpus import load_corpus
from .knowledge.passages import split_corpus


@click.group()
def main():
    """A safe, fast FAQ chatbot over a clinic's articles."""


for command in (check_corpus, import_article, reindex, export_corpus):
    main.add_command(command)


@main.command()
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int, show_default="$PORT or 8000")
@click.option("--workers", default=2, type=int, show_default=True)
def serve(host: str, port: int, workers: int):
    """Run the service under gunicorn, indexing once before the workers fork."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            from .gunicorn_conf import worker_exit  # as in the Procfile: a stopping worker exits at once

            for key, value in {"bind": f"{host}:{port}", "workers": workers, "preload_app": True,
                               "timeout": 30, "worker_exit": worker_exit}.items():
                self.cfg.set(key, value)

        def load(self):
            from . import wsgi  # builds the app once, on import

            return wsgi.app

    click.echo(f"faqbot: serving on http://{host}:{port}/ (Ctrl+C to stop)")
    Server().run()


@main.command()
@click.argument("question", nargs=-1, required=True)
@click.option("--explain", is_flag=True, help="Show the trace: terms, rules, scores, decision.")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON reply.")
def ask(question: tuple[str, ...], explain: bool, as_json: bool):
    """Answer one question (use ' / ' to send several turns of one conversation)."""
    from .answering.pipeline import reply_json
    from .evaluation.explain import explain as explain_message, replay, trace_json

    _, s = settings()
    bot = build_bot(s)
    messages = " ".join(question).split(" / ")
    history = replay(bot, messages[:-1]) if len(messages) > 1 else []
    exp = explain_message(bot, messages[-1], history)
    reply = exp.reply
    if as_json:
        data = reply_json(reply)
        if explain:
            data["trace"] = trace_json(exp)
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    print_reply(reply)
    if explain:
        click.echo("\n".join(explain_lines(trace_json(exp))))


@main.command("eval")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--verbose", "-v", is_flag=True, help="Show every case, not only failures.")
def evaluate_cmd(file: str | None, as_json: bool, verbose: bool):
    """Score an evaluation file; exit 1 when under its own floors ("thresholds" in the file) or the configured ones."""
    from .evaluation.runner import EvalFileError, below_thresholds, evaluate, file_thresholds

    cfg, s = settings()
    path = file or cfg["EVAL_FILE"]
    if not Path(path).is_file():
        raise click.UsageError(f"no evaluation file at {path}; pass FILE or set FAQBOT_EVAL_FILE")
    try:
        report = evaluate(build_bot(s), path, cfg["MAX_MESSAGE_LENGTH"])
    except EvalFileError as exc:
        raise click.UsageError(f"{path} is not a valid evaluation file: " + "; ".join(exc.problems)) from None
    misses = below_thresholds(report, cfg, file_thresholds(path))
    if as_json:
        click.echo(json.dumps({**report.as_dict(), "passed": not misses, "misses": misses}, indent=2))
    else:
        click.echo(f"{len(report.results)} cases from {path}")
        shown = ["n/a" if v is None else f"{v:.3f}" for v in (report.hit1, report.hit3, report.mrr)]
        click.echo("hit@1 {}   hit@3 {}   MRR {}".format(*shown))
        for kind, (right, total) in report.by_kind().items():
            click.echo(f"  {kind:<11} {right}/{total}")
        for r in report.results if verbose else report.failures():
            mark = "ok  " if r.ok else "FAIL"
            click.echo(f"{mark} [{r.kind}] {r.question} -> {r.reply.type} {r.why}")
        click.echo("PASSED" if not misses else "BELOW THRESHOLD: " + "; ".join(misses))
    sys.exit(1 if misses else 0)


@main.command()
@click.option("--pid", "pidfile", type=click.Path(dir_okay=False), help="gunicorn's --pid file (names the master).")
@click.option("--master", type=int, help="The running master's pid (instead of --pid).")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int, show_default="$PORT or 8000")
@click.option("--host", default="127.0.0.1", show_default=True, help="Where this machine reaches the server.")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds for the new workers to get ready.")
def upgrade(pidfile: str | None, master: int | None, port: int, host: str, timeout: float):
    """Serve the code and corpus now on disk without refusing a request (gunicorn USR2, then TERM the old master)."""
    from .upgrade import UpgradeError, run

    try:
        run(pidfile, master, port, host, timeout, say=click.echo)
    except UpgradeError as exc:
        raise click.ClickException(str(exc))


# The sets the meaning layer is fitted on; every other set in eval/ is only scored.
FIT_SETS = ("questions", "dev", "visitors_a", "gate_fit", "gate_fit2")
SAFETY_FIT_SETS = ("safety_fit", "safety_fit2", "safety_fit3", "safety_fit4", "safety_fit5")
# The small-talk model also learns from these (with FIT_SETS and SAFETY_FIT_SETS): fit sets all. None of their
# texts is in the red-flag bank, so the threshold for a red flag in one sentence is fitted on them too.
SMALLTALK_FIT_SETS = ("smalltalk_fit", "smalltalk_fit2", "conversations_fit", "caution_fit", "safety_fit6", "safety_fit7")


@main.command("fit")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--safety", "safety_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A red-team set to fit the red-flag layer on (repeatable; default: SAFETY_FIT_SETS).")
@click.option("--smalltalk", "smalltalk_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A further set to fit the small-talk model and the one-sentence red-flag threshold on, "
                   "none of its texts in the red-flag bank (repeatable; default: SMALLTALK_FIT_SETS).")
@click.option("--max-false-alarms", default=0.01, show_default=True, help="Cross-validated false-alarm budget.")
def fit_cmd(files: tuple[str, ...], safety_files: tuple[str, ...], smalltalk_files: tuple[str, ...],
            max_false_alarms: float):
    """Fit the meaning layer (red flags, small talk, clinic topics, answer gate) into faqbot/data/fitted.json.

    FILES are the evaluation files to fit the gate and thresholds on (default: FIT_SETS).
    Never pass a set you keep for scoring.
    """
    from .answering.pipeline import Bot
    from .answering.semantic import load_meaning
    from .evaluation.fitting import fit_all

    _, s = settings()
    paths = [Path(f) for f in files] or [Path(f"eval/{name}.json") for name in FIT_SETS]
    docs, _ = load_corpus(s.CORPUS_DIR, strict=True)
    passages = split_corpus(docs)
    meaning, status = load_meaning(True, s.SEMANTIC_MODEL_DIR, s.EMBEDDING_CACHE_DIR)
    if meaning is None:
        raise click.ClickException(f"the semantic model is {status}")
    safety = [Path(f) for f in safety_files] or [Path(f"eval/{name}.json") for name in SAFETY_FIT_SETS]
    chat = [Path(f) for f in smalltalk_files] or [Path(f"eval/{name}.json") for name in SMALLTALK_FIT_SETS]
    params = fit_all(lambda p: Bot(s, passages, meaning=meaning, params=p), paths, safety, max_false_alarms,
                     smalltalk_files=chat)
    cv = params["safety"]["cross_validated"]
    click.echo(f"red flags: threshold {params['safety']['threshold']:.3f}; cross-validated recall "
               f"{cv['recall']:.3f}, false alarms {cv['false_alarms']:.3f}")
    talk = params["smalltalk"]["cross_validated"]
    click.echo(f"small talk: held out a file at a time, {talk['small_talk_found']:.3f} found, "
               f"{talk['others_taken']:.4f} of other messages taken; clinic topics {params['topic_min']}")
    gate = params["gate"]
    click.echo(f"answer gate on {gate['fitted_cases']} questions: " + ", ".join(
        f"{k.replace('_', ' ')} {v}" for k, v in gate["fit_errors"].items()))
    click.echo("wrote faqbot/data/fitted.json and faqbot/data/safety_bank.json")
