"""What the faqbot commands share: configuration as the app loads it, the bot, progress, corpus errors."""
from __future__ import annotations

import sys

import click

from . import config as config_module
from .config import Settings
from .knowledge.corpus import CorpusError


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
