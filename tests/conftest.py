import pytest
from click.testing import CliRunner

from faqbot import create_app
from faqbot.config import DEFAULTS, Settings
from faqbot.pipeline import Bot


@pytest.fixture
def app(tmp_path):
    """An app on the real corpus with its own temporary database."""
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "faqbot.sqlite3")})
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(monkeypatch, tmp_path):
    monkeypatch.setenv("FAQBOT_DATABASE", str(tmp_path / "cli.sqlite3"))
    return CliRunner()


@pytest.fixture(scope="session")
def bot():
    """The pipeline on the shipped corpus and default settings (no web layer)."""
    return Bot.from_settings(Settings.from_mapping(DEFAULTS))


@pytest.fixture
def chat(client):
    """Post a message and return the JSON reply."""
    def send(message, session_id=None):
        body = {"message": message}
        if session_id:
            body["session_id"] = session_id
        response = client.post("/api/chat", json=body)
        assert response.status_code == 200, response.get_json()
        return response.get_json()
    return send
