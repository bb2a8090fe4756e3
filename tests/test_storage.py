"""The store's contract, run against both engines: SQLite (the default) and a real PostgreSQL."""
import threading
import time

import pytest

from faqbot import storage
from faqbot.conversation import Turn

pytestmark = pytest.mark.stores("sqlite", "postgres")
CONFIG = {"SESSION_TTL": 3600, "SESSION_TURNS": 3, "LOG_RETENTION_DAYS": 30, "DATABASE": "",
          "DATABASE_POOL_SIZE": 4, "DATABASE_TIMEOUT": 0.5}


@pytest.fixture
def store(database):
    store = storage.from_config({**CONFIG, **database})
    assert store.ping()
    yield store
    store.close()


def turn(n: int, message: str | None = None, type_: str = "answer") -> Turn:
    return Turn(f"reply-{n:04d}", message or f"question {n}", type_, {"sciatica": 1.0, "nerv": 0.5})


def test_a_new_session_has_no_history(store):
    assert store.history("nobody-yet") == []


def test_turns_come_back_oldest_first_and_only_the_last_few(store):
    for n in range(5):
        store.record("s1", turn(n), 0.5, "doc#1")
    assert [t.reply_id for t in store.history("s1")] == ["reply-0002", "reply-0003", "reply-0004"]
    assert store.history("s1")[-1] == turn(4)  # the follow-up context (weights) survives the round trip
    assert store.history("s2") == []


def test_an_expired_session_starts_afresh(store):
    store.record("s1", turn(1), 0.5, None)
    store.session_ttl = -1  # everything is older than this
    assert store.history("s1") == []
    store.record("s1", turn(2), 0.5, None)
    store.session_ttl = 3600
    assert [t.reply_id for t in store.history("s1")] == ["reply-0002"]


def test_every_turn_is_logged_with_its_confidence_and_passage(store):
    store.record("s1", turn(1, "what is remedial massage?"), 0.87, "what-is#0")
    store.record("s1", turn(2, "how much is it", "fallback"), 0.1, None)
    rows = store.questions_since(time.time() - 60, 10)
    assert [(r.message, r.type, r.top_passage) for r in rows] == [
        ("how much is it", "fallback", None), ("what is remedial massage?", "answer", "what-is#0")]
    assert rows[1].confidence == pytest.approx(0.87) and abs(rows[0].created - time.time()) < 60


def test_text_survives_unchanged(store):
    message = "Ça fait mal — 背中 😣 'quotes' \"and\" ? %s %(x)s; DROP TABLE questions;--"
    store.record("s1", turn(1, message), 0.5, None)
    assert store.history("s1")[0].message == message
    assert store.questions_since(0, 10)[0].message == message


def test_one_vote_per_reply_and_only_on_a_known_reply(store):
    store.record("s1", turn(1), 0.5, "doc#1")
    assert store.add_feedback("s1", "reply-0001", "up", None) is True
    assert store.add_feedback("s1", "reply-0001", "down", "too long") is True  # a changed mind replaces it
    assert store.add_feedback("s1", "reply-9999", "up", None) is False
    assert store.add_feedback("another-session", "reply-0001", "up", None) is False
    assert store.votes_since(0) == {"down": 1}
    [down] = store.downvotes_since(0, 10)
    assert (down.message, down.comment, down.top_passage) == ("question 1", "too long", "doc#1")


def test_votes_racing_on_one_reply_leave_one(store):
    store.record("s1", turn(1), 0.5, None)
    threads = [threading.Thread(target=store.add_feedback, args=("s1", "reply-0001", vote, None))
               for vote in ("up", "down") * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(store.votes_since(0).values()) == 1


def test_purge_drops_expired_sessions_and_old_log_rows(store):
    store.record("s1", turn(1), 0.5, None)
    store.add_feedback("s1", "reply-0001", "up", None)
    store.purge(time.time() + 31 * 86400)  # a month later
    assert store.history("s1") == [] and store.questions_since(0, 10) == [] and store.votes_since(0) == {}


def test_export_pages_through_everything_oldest_first(store, monkeypatch):
    monkeypatch.setattr(storage, "EXPORT_PAGE", 7)
    for n in range(20):
        store.record(f"s{n % 3}", turn(n), 0.5, None)
    store.add_feedback("s1", "reply-0001", "down", "meh")
    pages = list(store.export(0))
    assert [len(p) for p in pages] == [7, 7, 6]
    rows = [r for p in pages for r in p]
    assert sorted(r.reply_id for r in rows) == [f"reply-{n:04d}" for n in range(20)]
    assert [r.created for r in rows] == sorted(r.created for r in rows)
    voted = next(r for r in rows if r.reply_id == "reply-0001")
    assert (voted.up, voted.down, voted.comments) == (0, 1, "meh")


def test_meta_is_shared_and_overwritten(store):
    assert store.meta("corpus_version") is None
    assert store.set_meta("corpus_version", "abc") and store.meta("corpus_version") == "abc"
    assert store.set_meta("corpus_version", "def") and store.meta("corpus_version") == "def"


def test_schema_creation_is_idempotent(store, database):
    store.record("s1", turn(1), 0.5, None)
    again = storage.from_config({**CONFIG, **database})
    assert again.ping() and again.history("s1") == [turn(1)]  # opening again keeps what is there
    again.close()


def test_concurrent_turns_in_threads_are_all_logged(store):
    def talk(i):
        for n in range(10):
            store.record(f"s{i}", turn(i * 100 + n), 0.5, None)
    threads = [threading.Thread(target=talk, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.questions_since(0, 100)) == 40
    assert [t.reply_id for t in store.history("s2")] == ["reply-0207", "reply-0208", "reply-0209"]


def test_reachable(store):
    assert store.reachable()


def test_at_least_one_turn_is_kept_whatever_the_setting(database):
    store = storage.from_config({**CONFIG, "SESSION_TURNS": 0, **database})
    for n in range(3):
        store.record("s1", turn(n), 0.5, None)
    assert [t.reply_id for t in store.history("s1")] == ["reply-0002"]  # a follow-up needs the turn before it
    store.close()
