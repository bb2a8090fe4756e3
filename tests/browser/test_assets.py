"""The widget's files: served with the right types and caching, small, and shipped in the package."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 25_000  # bytes of widget.js + widget.css, unminified


@pytest.mark.parametrize("path, mimetype, max_age", [
    ("/", "text/html", 300),
    ("/widget.js", "text/javascript", 3600),
    ("/widget.css", "text/css", 3600),
])
def test_files_are_served_with_type_and_caching_headers(client, path, mimetype, max_age):
    with client.get(path) as response:
        assert response.status_code == 200
        assert response.mimetype == mimetype
        assert response.cache_control.public and response.cache_control.max_age == max_age
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        etag = response.headers["ETag"]
    with client.get(path, headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304 and again.data == b""


def test_the_demo_page_embeds_the_widget_with_one_script_tag(client):
    with client.get("/") as response:
        html = response.get_data(as_text=True)
    assert html.count("<script") == 1
    assert '<script src="/widget.js"' in html


def test_the_widget_stays_small():
    size = sum((ROOT / "web" / name).stat().st_size for name in ("widget.js", "widget.css"))
    assert size < BUDGET, f"widget.js + widget.css = {size} bytes, budget {BUDGET}"


def test_the_widget_never_parses_text_as_html():
    script = (ROOT / "web" / "widget.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script


def test_an_installed_package_serves_the_widget_without_the_repository(tmp_path):
    source, target = tmp_path / "src", tmp_path / "site"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", "tests", "*.egg-info", "build", "__pycache__",
                                                                "instance", "node_modules"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                    "--target", str(target), str(source)], check=True, capture_output=True)
    shutil.rmtree(source)
    check = """
from flask import Flask
from faqbot.webapp import widget
app = Flask("installed")
app.register_blueprint(widget.bp)
client = app.test_client()
print(widget.web_dir())
for path in ("/", "/widget.js", "/widget.css"):
    with client.get(path) as response:
        assert response.status_code == 200, path
"""
    run = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, env={"PYTHONPATH": str(target), "PATH": ""},
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert Path(run.stdout.strip()) == target / "faqbot" / "web"
