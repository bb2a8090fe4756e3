"""Serve the embeddable chat widget and the demo clinic page."""
from __future__ import annotations

import weakref
from functools import cache
from importlib import resources
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, send_from_directory
from markupsafe import escape

from ..knowledge.passages import Passage, by_document, heading_anchor

bp = Blueprint("widget", __name__)

# The script is pasted into other sites: an hour keeps it fast while letting a
# fix reach visitors the same day; ETags make revalidation a cheap 304.
ASSET_MAX_AGE = 3600
PAGE_MAX_AGE = 300


@cache
def web_dir() -> Path:
    """Return the folder holding widget.js, widget.css and demo.html."""
    repo = Path(__file__).resolve().parent.parent / "web"
    if (repo / "widget.js").is_file():
        return repo
    # Installed without the repository: pyproject maps web/ to faqbot.web.
    return Path(str(resources.files("faqbot.web")))


def _send(name: str, mimetype: str, max_age: int) -> Response:
    response = send_from_directory(web_dir(), name, mimetype=mimetype, max_age=max_age)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/")
def demo() -> Response:
    """Serve the demo clinic page with the widget embedded."""
    return _send("demo.html", "text/html", PAGE_MAX_AGE)


@bp.get("/widget.js")
def script() -> Response:
    """Serve the widget script."""
    response = _send("widget.js", "text/javascript", ASSET_MAX_AGE)
    # Other sites embed the script; let them load it under a strict CORP policy.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/widget.css")
def stylesheet() -> Response:
    """Serve the widget stylesheet."""
    response = _send("widget.css", "text/css", ASSET_MAX_AGE)
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


ARTICLE_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {clinic}</title>
<link rel="icon" href="data:,">
<style>
  body {{ margin: 0 auto; max-width: 42rem; padding: 2rem 1.25rem 4rem; font: 1.05rem/1.6 Georgia, serif; color: #2b2621; background: #fbf8f3; }}
  h1, h2 {{ font-weight: 400; line-height: 1.25; color: #1d3b39; }}
  h2 {{ margin-top: 2rem; scroll-margin-top: 1rem; }}
  h2:target {{ background: #fff4c2; }}
  .from {{ font: 0.9rem system-ui, sans-serif; color: #5b524a; }}
</style>
</head>
<body>
<main>
<p class="from">An article from {clinic}</p>
<h1>{title}</h1>
{body}
</main>
</body>
</html>
"""
# Articles rendered once per bot (a reindex builds a new bot, and its pages are built afresh).
_articles: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def article_html(passages: list[Passage], clinic: str) -> str:
    """An article's cleaned text as a page: every text HTML-escaped, each heading an anchor."""
    parts: list[str] = []
    heading, seen = None, set()
    for p in passages:
        if p.heading and p.heading != heading:
            anchor = base = heading_anchor(p.heading)
            n = 1
            while anchor in seen:  # a heading repeated in one article: its later copies get -2, -3...
                n += 1
                anchor = f"{base}-{n}"
            seen.add(anchor)
            parts.append(f'<h2 id="{escape(anchor)}">{escape(p.heading)}</h2>')
        heading = p.heading
        parts.append(f"<p>{escape(p.text)}</p>")
    return ARTICLE_PAGE.format(title=escape(passages[0].doc_title), clinic=escape(clinic), body="\n".join(parts))


@bp.get("/articles/<doc_id>")
def article(doc_id: str) -> Response:
    """Serve an article's cleaned text: where a reply's source links when the article has no public url."""
    bot = current_app.extensions["faqbot"]  # the current one: a reindex swaps it
    docs = _articles.get(bot)
    if docs is None:
        docs = _articles[bot] = by_document(bot.index.passages)
    passages = docs.get(doc_id)
    if not passages:
        abort(404)
    response = Response(article_html(passages, current_app.config["CLINIC_NAME"]), mimetype="text/html")
    response.cache_control.public = True
    response.cache_control.max_age = PAGE_MAX_AGE
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
