"""Serve the embeddable chat widget and the demo clinic page."""
from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from flask import Blueprint, Response, send_from_directory

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
