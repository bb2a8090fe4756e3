"""The corpus commands: check-corpus, import-article, reindex, export-corpus (registered in cli.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from . import config as config_module
from .cli_common import embedding_progress, fail_corpus, settings
from .cli_text import passage_summary, plural
from .config import Settings
from .knowledge.corpus import CorpusError, load_corpus, slug
from .knowledge.passages import by_document, split_corpus


@click.command("check-corpus")
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


@click.command("import-article")
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


@click.command()
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


@click.command("export-corpus")
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
