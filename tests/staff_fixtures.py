"""Fixtures for the staff console tests: an app with a token, an API caller and a logged-in browser-like client."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from faqbot import create_app

TOKEN = "staff-token-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
CORPUS = Path(__file__).resolve().parent.parent / "corpus"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(tmp_path: Path, **config):
    """Create an app on its own database (and corpus folder when given) with the console on."""
    return create_app({"TESTING": True, "DATABASE": str(tmp_path / "faqbot.sqlite3"), "STAFF_TOKEN": TOKEN,
                       **config})


@pytest.fixture
def staff_app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
def api(staff_app):
    """Call /api/staff/* with the bearer token."""
    client = staff_app.test_client()

    def call(method: str, path: str, **kwargs):
        return client.open(f"/api/staff/{path}", method=method, headers=BEARER, **kwargs)
    call.client = client
    return call


class Console:
    """A test client logged in to the console, sending the CSRF token with every form."""

    def __init__(self, client):
        self.client = client
        page = client.get("/staff/login")
        self.csrf = CSRF.search(page.text).group(1)
        response = client.post("/staff/login", data={"csrf_token": self.csrf, "token": TOKEN})
        assert response.status_code == 303, response.text
        self.csrf = CSRF.search(client.get("/staff/corpus").text).group(1)

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self.client.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)


@pytest.fixture
def console(staff_app):
    return Console(staff_app.test_client())


@pytest.fixture
def corpus_dir(tmp_path):
    """A copy of the shipped corpus that a test may edit."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target
