import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import servers
from click.testing import CliRunner

from faqbot import create_app
from faqbot.config import DEFAULTS, Settings
from faqbot.building import build


@pytest.fixture(autouse=True)
def no_database_from_the_shell(monkeypatch):
    """Keep a developer's DATABASE_URL (or ours) from pointing any test at a real database."""
    for name in ("DATABASE_URL", "FAQBOT_DATABASE_URL", "FAQBOT_DATABASE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def app(database):
    """An app on the real corpus with its own empty database."""
    app = create_app({"TESTING": True, **database})
    yield app
    app.extensions["faqbot.store"].close()


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
    return build(Settings.from_mapping(DEFAULTS))[0]


@pytest.fixture(scope="session")
def lexical_bot():
    """The pipeline with the semantic model off: BM25 and the hand-set confidence threshold alone."""
    return build(Settings.from_mapping({**DEFAULTS, "SEMANTIC": False}))[0]


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


# -- real database servers, and running a test against both stores ---------------------------

def pytest_generate_tests(metafunc):
    """Run tests marked @pytest.mark.stores("sqlite", "postgres") once per store."""
    marker = metafunc.definition.get_closest_marker("stores")
    if marker and "database" in metafunc.fixturenames:
        metafunc.parametrize("database", marker.args, indirect=True)


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server for the whole run (tests/run.sh installs Debian's package)."""
    if not servers.have_postgres():
        pytest.skip("PostgreSQL is not installed: run the tests with tests/run.sh")
    folder = Path(tempfile.mkdtemp(prefix="faqbot-pg-"))
    server = servers.Postgres(folder).start()
    yield server
    server.stop("immediate")
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A Redis server for the whole run."""
    if not servers.have_redis():
        pytest.skip("Redis is not installed: run the tests with tests/run.sh")
    server = servers.Redis(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def database(request, tmp_path):
    """Configuration for an empty database: SQLite by default, or the store the test is parametrised with."""
    if getattr(request, "param", "sqlite") == "postgres":
        server = request.getfixturevalue("postgres_server")
        return {"DATABASE_URL": server.new_schema(f"t_{uuid.uuid4().hex[:12]}")}
    return {"DATABASE": str(tmp_path / "faqbot.sqlite3")}
