"""The faqbot command: serve, ask, eval, fit, check-corpus, import-article, reindex, export-corpus, upgrade."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from . import config as config_module
from .config import Settings
from .knowledge.corpus import CorpusError, load_corpus, slug
from .knowledge.passages import by_document, split_corpus
from .cli_text import explain_lines, passage_summary, plural, print_reply


def settings(**overrides) -> tuple[dict, Settings]:
    """Load configuration the same way the app does."""
    cfg = config_module.load({k: v for k, v in overrides.items() if v is not None})
    return cfg, Settings.from_mapping(cfg)


def build_bot(cfg_settings: Settings):
    """Build the bot or exit listing the corpus problems."""
    from .building import build

    try:
        return build(cfg_settings, strict=cfg_settings.CORPUS_STRICT, progress=embedding_progress())[0]
    except CorpusError as exc:
        fail_corpus(exc)


def embedding_progress():
    """A progress callback that draws a bar on stderr while new texts are embedded (minutes for a large library)."""
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="Embedding new texts", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    return progress


def fail_corpus(exc: CorpusError):
    click.echo("The corpus has problems:", err=True)
    for problem in exc.problems:
        click.echo(f"  - {problem}", err=True)
    sys.exit(3)


@click.group()
def main():
    """A safe, fast FAQ chatbot over a clinic's articles."""


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


@main.command("check-corpus")
@click.argument("directory", required=False)
def check_corpus(directory: str | None):
    """Validate the corpus and summarise its documents and passages."""
    _, s = settings()
    directory = directory or s.CORPUS_DIR
    try:
        docs, _ = load_corpus(directory, strict=True)
    except CorpusError as exc:
        fail_corpus(exc)
    passages = split_corpus(docs)
    by_doc = by_document(passages)
    for doc in docs:
        mine = by_doc.get(doc.id, [])
        questions = sum(len(p.questions) for p in mine)
        click.echo(f"ok  {Path(doc.path).name}: '{doc.title}' ({doc.id}), {passage_summary(mine)}, "
                   f"{plural(questions, 'visitor question')}")
    click.echo(f"{plural(len(docs), 'document')}, {plural(len(passages), 'passage')}: corpus OK")


@main.command("import-article")
@click.argument("raw", type=click.Path(exists=True, dir_okay=False))
@click.option("--title", help="The article's title, when the scrape has none.")
@click.option("--id", "doc_id", help="A stable id (default: from the title).")
@click.option("--out", "out_dir", default=None, help="Corpus directory to write to.")
def import_article(raw: str, title: str | None, doc_id: str | None, out_dir: str | None):
    """Clean a raw scraped article into a corpus document (Markdown with front matter)."""
    from .knowledge.cleaning import clean_scraped
    from .knowledge.corpus import read_document
    from .knowledge.passages import split_document

    try:
        article = clean_scraped(Path(raw).read_text(encoding="utf-8"), title=title)
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"{raw}: {exc}") from None
    doc_id = doc_id or slug(article.title)
    target = Path(out_dir or settings()[1].CORPUS_DIR) / f"{doc_id}.md"
    if target.exists():
        raise click.UsageError(f"{target} exists; choose another --id")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"---\nid: {doc_id}\ntitle: {article.title}\nsource: {Path(raw).name}\n---\n\n{article.body}",
                      encoding="utf-8")
    try:
        doc = read_document(target)
    except CorpusError as exc:  # e.g. no paragraph survived the cleaning: say so, keep the file to fix
        click.echo(f"wrote {target}, but it is not a valid corpus document yet: " + "; ".join(exc.problems))
        sys.exit(3)
    headings = sum(b.kind == "heading" for b in doc.blocks)
    click.echo(f"wrote {target}: {passage_summary(split_document(doc))}, {plural(headings, 'heading')}; "
               "review its headings, then add 'Q:' visitor questions above paragraphs")


@main.command()
def reindex():
    """Publish corpus/ as a new knowledge version (keeping staff's edits) for every running worker."""
    from flask import Flask

    from . import storage
    from .building import announce, build_from, import_corpus
    from .storage.base import StoreUnavailable
    from .storage.knowledge import KnowledgeStore

    # The app keeps its database in Flask's instance folder: resolve it the same way.
    cfg = config_module.load(None, Flask("faqbot").instance_path)
    s = Settings.from_mapping(cfg)
    store = storage.from_config(cfg)
    where = storage.redact(storage.database_url(cfg))
    versions = KnowledgeStore(store)
    try:
        knowledge, version = import_corpus(s, versions, versions.latest(), "faqbot reindex")
    except CorpusError as exc:
        fail_corpus(exc)
    except StoreUnavailable as exc:
        raise click.ClickException(f"the database at {where} can't be used ({exc}); nothing was published")
    # Built here once, so the texts it adds are embedded into the shared cache before workers rebuild.
    info = build_from(s, knowledge, version, progress=embedding_progress())[1]
    if announce(store, info) is None:
        raise click.ClickException(f"the database at {where} is not writable; nothing was published")
    click.echo(f"corpus OK: {len(info.documents)} documents, {info.passages} passages, "
               f"{plural(info.answers, 'clinic answer')}; knowledge version {version} ({info.hash})")
    click.echo(f"published to {where}: running workers switch within "
               f"{cfg['REINDEX_CHECK_SECONDS']:g} s of their next request")


@main.command("export-corpus")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--draft", is_flag=True, help="Export staff's draft instead of the published version.")
def export_corpus(directory: str, draft: bool):
    """Write the published knowledge (articles with staff's edits, clinic answers) as corpus files."""
    from flask import Flask

    from . import storage
    from .knowledge.content import export
    from .storage.base import StoreUnavailable
    from .storage.knowledge import KnowledgeStore

    cfg = config_module.load(None, Flask("faqbot").instance_path)
    versions = KnowledgeStore(storage.from_config(cfg))
    try:
        found = versions.draft() if draft else versions.latest()
    except StoreUnavailable as exc:
        raise click.ClickException(f"the database can't be read ({exc})")
    if found is None:
        raise click.ClickException("nothing published yet: start the service once (it imports corpus/)"
                                   if not draft else "there is no draft")
    knowledge = found.knowledge if draft else found[1]
    for path in export(knowledge, directory):
        click.echo(f"wrote {path}")
    click.echo("version: " + ("draft" if draft else str(found[0].version)))


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


@main.command("fit")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--safety", "safety_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A red-team set to fit the red-flag layer on (repeatable; default: SAFETY_FIT_SETS).")
@click.option("--max-false-alarms", default=0.01, show_default=True, help="Cross-validated false-alarm budget.")
def fit_cmd(files: tuple[str, ...], safety_files: tuple[str, ...], max_false_alarms: float):
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
    params = fit_all(lambda p: Bot(s, passages, meaning=meaning, params=p), paths, safety, max_false_alarms)
    cv = params["safety"]["cross_validated"]
    click.echo(f"red flags: threshold {params['safety']['threshold']:.3f}; cross-validated recall "
               f"{cv['recall']:.3f}, false alarms {cv['false_alarms']:.3f}")
    click.echo(f"small talk when {params['smalltalk_min']} closer than any passage, clinic topics {params['topic_min']}")
    gate = params["gate"]
    click.echo(f"answer gate on {gate['fitted_cases']} questions: " + ", ".join(
        f"{k.replace('_', ' ')} {v}" for k, v in gate["fit_errors"].items()))
    click.echo("wrote faqbot/data/fitted.json and faqbot/data/safety_bank.json")
