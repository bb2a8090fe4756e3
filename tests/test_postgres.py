"""What only the PostgreSQL store has: configuration by URL, migrations, a server that is down."""
import threading
import time
import uuid

import psycopg
import pytest
import servers
from servers import eventually

from faqbot import config, create_app, storage
from faqbot.storage import postgres as store_postgres
from faqbot.answering.conversation import Turn
from faqbot.storage.postgres import PostgresStore
from faqbot.storage.sqlite import SQLiteStore


def test_the_database_is_chosen_by_url(monkeypatch, tmp_path):
    assert isinstance(storage.from_config(config.load()), SQLiteStore)  # the default: no server needed
    monkeypatch.setenv("DATABASE_URL", "postgres://u:secret@db.example/clinic")  # as Heroku-style hosts set it
    store = storage.from_config(config.load())
    assert isinstance(store, PostgresStore) and store.url.endswith("db.example/clinic")
    monkeypatch.setenv("FAQBOT_DATABASE", str(tmp_path / "x.sqlite3"))  # ours, named: wins over the platform's
    assert storage.from_config(config.load()).path == str(tmp_path / "x.sqlite3")
    monkeypatch.setenv("FAQBOT_DATABASE_URL", "postgresql://u@other.example/faqbot")  # wins over both
    assert storage.from_config(config.load()).url == "postgresql://u@other.example/faqbot"
    monkeypatch.setenv("FAQBOT_DATABASE_URL", f"sqlite:///{tmp_path}/y.sqlite3")
    assert storage.from_config(config.load()).path == f"{tmp_path}/y.sqlite3"
    assert storage.redact("postgres://u:secret@db.example/clinic") == "postgres://u:***@db.example/clinic"


def test_an_unsupported_database_url_is_refused_without_its_password(monkeypatch):
    monkeypatch.setenv("FAQBOT_DATABASE_URL", "mysql://u:secret@db.example/clinic")
    with pytest.raises(ValueError) as error:
        storage.from_config(config.load())
    assert "mysql://u:***@db.example" in str(error.value) and "secret" not in str(error.value)


def test_bad_data_fails_one_write_without_marking_the_database_down(postgres_server, caplog):
    store = fresh(postgres_server)
    store.record("s1", Turn("r1", "nul \x00 inside", "answer", {}), 0.5, None)  # PostgreSQL text can't hold NUL
    store.record("s1", Turn("r2", "fine", "answer", {}), 0.5, None)
    assert [t.reply_id for t in store.history("s1")] == ["r2"]  # the next visitor's turn is kept
    store.close()


def test_a_row_refused_as_bad_data_is_dropped_alone_and_the_rest_of_its_batch_written(postgres_server):
    from faqbot.storage.spool import Pending

    store = fresh(postgres_server)
    rows = [Pending(n, "s1", Turn(f"r{n}", text, "answer", {}), 0.5, None, time.time(), False)
            for n, text in enumerate(["fine", "nul \x00 inside", "fine too"])]
    assert store.write_log(rows) == [True, False, True]
    assert [t.reply_id for t in store.history("s1")] == ["r0", "r2"]
    assert store.healthy()  # bad data is not an outage
    store.close()


def test_an_older_release_never_downgrades_the_schema_version(postgres_server):
    store = fresh(postgres_server)
    assert store.set_meta("schema_version", str(len(store_postgres.MIGRATIONS) + 1))  # a newer release was here
    older = PostgresStore(store.url, 3600, 6, 30)
    assert older.ping() and older.meta("schema_version") == str(len(store_postgres.MIGRATIONS) + 1)
    older.close()
    store.close()


def fresh(server) -> PostgresStore:
    return PostgresStore(server.new_schema(f"t_{uuid.uuid4().hex[:12]}"), 3600, 6, 30)


def test_instances_starting_together_create_the_schema_once(postgres_server):
    url = postgres_server.new_schema(f"t_{uuid.uuid4().hex[:12]}")
    stores = [PostgresStore(url, 3600, 6, 30) for _ in range(6)]
    errors = []

    def start(store):
        try:
            store.migrate()
        except Exception as exc:
            errors.append(exc)
    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert stores[0].meta("schema_version") == str(len(store_postgres.MIGRATIONS))
    for store in stores:
        store.close()


def test_a_new_migration_step_runs_once_on_an_existing_database(postgres_server, monkeypatch):
    store = fresh(postgres_server)
    assert store.set_meta("kept", "yes")
    store.close()
    step = "ALTER TABLE questions ADD COLUMN language TEXT"  # fails if run twice
    monkeypatch.setattr(store_postgres, "MIGRATIONS", [*store_postgres.MIGRATIONS, step])
    for _ in range(2):
        again = PostgresStore(store.url, 3600, 6, 30)
        assert again.ping() and again.meta("kept") == "yes"
        assert again.meta("schema_version") == str(len(store_postgres.MIGRATIONS))
        again.close()
    with psycopg.connect(store.url) as conn:
        columns = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'questions' "
            "AND table_schema = current_schema()")}
    assert "language" in columns


def test_a_server_that_is_down_costs_visitors_nothing(tmp_path, caplog):
    url = f"postgresql://postgres@127.0.0.1:{servers.free_port()}/postgres"  # nothing listens there
    app = create_app({"TESTING": True, "DATABASE_URL": url})
    client = app.test_client()
    started = time.monotonic()
    for n in range(20):
        reply = client.post("/api/chat", json={"message": "What is remedial massage?"}).get_json()
        assert reply["type"] == "answer" and reply["disclaimer"]
        follow = client.post("/api/chat", json={"message": "Does it help with posture?",
                                                "session_id": reply["session_id"]})
        assert follow.status_code == 200
    assert time.monotonic() - started < 5
    # Ready all the same: the instance answers; the database's state is reported, not required.
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"]["database"] is False
    feedback = client.post("/api/feedback", json={"session_id": reply["session_id"], "reply_id": reply["reply_id"],
                                                  "vote": "up"})
    assert feedback.status_code == 503 and feedback.get_json()["error"]["code"]
    warnings = [r for r in caplog.records if r.name.startswith("faqbot.storage") and r.levelname == "WARNING"]
    assert 1 <= len(warnings) <= 3  # one per outage, not one per request


def test_reachable_says_no_quickly():
    started = time.monotonic()
    assert PostgresStore("postgresql://nobody@127.0.0.1:1/nothing", 3600, 6, 30).reachable() is False
    assert time.monotonic() - started < 3


def test_during_an_outage_no_visitor_waits_and_one_background_probe_tries_the_database(postgres_server, monkeypatch):
    store = fresh(postgres_server)
    assert store.save_turn("s0", Turn("r0", "before", "answer", {}), time.time())  # a pool, open and in use
    probes, took = [], []
    real_connect = psycopg.connect

    def slow_probe(*args, **kwargs):  # slow, so every visitor arrives while it runs
        if args and args[0] == store.url:  # not another test's store, retrying in its own background
            probes.append(threading.current_thread().name)
        time.sleep(0.3)
        return real_connect(*args, **kwargs)

    def visitor(n: int, barrier: threading.Barrier) -> None:
        barrier.wait()
        started = time.monotonic()
        store.save_turn(f"s{n}", Turn(f"v{n}", "hello", "answer", {}), time.time())
        took.append(time.monotonic() - started)

    def probed() -> None:  # wait for the probe thread to give its verdict
        assert store._probing.acquire(timeout=10)
        store._probing.release()

    postgres_server.stop()
    try:
        assert not store.save_turn("s0", Turn("r1", "down", "answer", {}), time.time())  # noticed: back-off starts
        time.sleep(PostgresStore.RETRY_MIN)  # ...and has passed, so the next call starts a probe
        monkeypatch.setattr(psycopg, "connect", slow_probe)
        barrier = threading.Barrier(8)
        threads = [threading.Thread(target=visitor, args=(n, barrier)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert max(took) < 0.1  # no visitor waited, not even the one whose call started the probe
        time.sleep(0.05)
        probed()
        assert probes == ["faqbot-postgres-probe"]
        # Each failed probe doubles the back-off, capped at RETRY_MAX: logging resumes within 2 s
        # of the server's return, not 8 as before.
        monkeypatch.setattr(psycopg, "connect", real_connect)
        delays = [store._down_until - time.monotonic()]
        for _ in range(3):
            store._down_until = 0  # as if the back-off had passed
            assert not store.save_turn("s0", Turn("r2", "still down", "answer", {}), time.time())
            time.sleep(0.05)
            probed()
            delays.append(store._down_until - time.monotonic())
        assert delays == pytest.approx([0.5, 1, 2, 2], abs=0.3)
    finally:
        postgres_server.start()
    store._down_until = 0
    store.save_turn("s9", Turn("r9", "back", "answer", {}), time.time())  # skipped; its probe finds the server
    assert eventually(lambda: store.save_turn("s9", Turn("r10", "back", "answer", {}), time.time()))
    assert [t.reply_id for t in store.history("s9")][-1] == "r10"
    store.close()


def test_a_held_schema_lock_does_not_hold_start_up(postgres_server, monkeypatch, caplog):
    assert PostgresStore.LOCK_TIMEOUT == 5.0
    monkeypatch.setattr(PostgresStore, "LOCK_TIMEOUT", 0.5)  # the same behaviour, sooner
    url = postgres_server.new_schema(f"t_{uuid.uuid4().hex[:12]}")
    with psycopg.connect(postgres_server.url(), autocommit=True) as other:  # another instance, mid-migration
        other.execute("SELECT pg_advisory_lock(%s)", (store_postgres.SCHEMA_LOCK,))
        started = time.monotonic()
        app = create_app({"TESTING": True, "DATABASE_URL": url})
        assert time.monotonic() - started < 0.5 + 3  # the lock timeout, and building the index
        assert any("lock timeout" in r.getMessage() for r in caplog.records)
        store = app.extensions["faqbot.store"]
        started = time.monotonic()
        assert app.test_client().post("/api/chat", json={"message": "What is remedial massage?"}).status_code == 200
        assert time.monotonic() - started < 0.3  # visitors skip the database meanwhile
    # The lock is free: once the back-off has passed, the background probe migrates.
    assert eventually(store.ping) and store.meta("schema_version") == str(len(store_postgres.MIGRATIONS))
    store.close()
