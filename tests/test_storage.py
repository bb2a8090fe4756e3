"""The store's contract, run against both engines: SQLite (the default) and a real PostgreSQL."""
import threading
import time
from types import SimpleNamespace

import pytest

from faqbot import storage
from faqbot.answering.conversation import Turn

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
    # A vector as Meaning.pack writes it: the safety window of later turns reads it back.
    return Turn(f"reply-{n:04d}", message or f"question {n}", type_, {"sciatica": 1.0, "nerv": 0.5}, "doc#1",
                "0123456789ab:" + "AAA8" * 256)


def test_a_new_session_has_no_history(store):
    assert store.history("nobody-yet") == []


def test_turns_come_back_oldest_first_and_only_the_last_few(store):
    for n in range(5):
        store.record("s1", turn(n), 0.5, "doc#1")
    assert [t.reply_id for t in store.history("s1")] == ["reply-0002", "reply-0003", "reply-0004"]
    assert store.history("s1")[-1] == turn(4)  # its context (weights, passage, vector) survives the round trip
    assert store.history("s2") == []


def test_a_turn_saved_by_a_newer_version_is_read_without_what_this_one_does_not_know(store):
    # During a rolling upgrade an older worker reads what a newer one saved.
    store.record("s1", SimpleNamespace(**turn(1).__dict__, mood="curious"), 0.5, None)
    assert store.history("s1") == [turn(1)]


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
    monkeypatch.setattr(storage.base, "EXPORT_PAGE", 7)
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


# -- SQLite: writers take turns through a flock, checkpoints run beside the visitors ------------

@pytest.fixture
def sqlite_store(tmp_path):
    store = storage.from_config({**CONFIG, "DATABASE": str(tmp_path / "faqbot.sqlite3")})
    assert store.ping()
    yield store
    store.close()


def hold_turn(store):
    """Take the writers' turn as another worker would, through a file descriptor of our own."""
    import fcntl
    import os

    fd = os.open(store.path + "-writers", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_a_write_goes_ahead_as_soon_as_the_other_writer_ends_its_turn(sqlite_store):
    import os

    fd = hold_turn(sqlite_store)
    threading.Timer(0.2, os.close, (fd,)).start()  # closing ends the turn, as a worker's exit does
    started = time.monotonic()
    sqlite_store.record("s1", turn(1), 0.5, None)
    assert 0.19 < time.monotonic() - started < 0.4
    assert sqlite_store.history("s1") == [turn(1)]


def test_a_writer_stuck_with_its_turn_delays_a_visitors_write_by_at_most_the_wait(sqlite_store, caplog):
    import os
    import sqlite3

    from faqbot.storage.sqlite import WAIT

    fd = hold_turn(sqlite_store)
    try:
        started = time.monotonic()
        assert sqlite_store.save_turn("s1", turn(1), time.time())  # SQLite's lock is free: written all the same
        assert time.monotonic() - started < WAIT * 2 and sqlite_store.history("s1") == [turn(1)]
        locker = sqlite3.connect(sqlite_store.path, isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")  # stuck mid-write: its turn and SQLite's lock both held
        started = time.monotonic()
        with caplog.at_level("WARNING", logger="faqbot.storage"):
            assert not sqlite_store.save_turn("s1", turn(2), time.time())
        assert time.monotonic() - started < WAIT * 2  # not the turn's wait and then SQLite's on top
        assert any("carrying on without it" in r.getMessage() for r in caplog.records)
        locker.execute("ROLLBACK")
        locker.close()
    finally:
        os.close(fd)
    sqlite_store.record("s1", turn(3), 0.5, None)
    assert [t.reply_id for t in sqlite_store.history("s1")] == ["reply-0001", "reply-0003"]



def test_a_processs_threads_wait_for_the_turn_asleep_and_one_of_them_polls(sqlite_store, monkeypatch):
    """Sixteen threads of a busy worker polling the flock every 50-250 us cost it 14% of its time:
    they queue on one lock of the process instead, and only the first of them polls."""
    import fcntl
    import os

    from faqbot.storage import turns as store_turns

    polls = []
    real = fcntl.flock

    def counted(fd, op):
        if op & fcntl.LOCK_NB:
            polls.append(threading.get_ident())
        return real(fd, op)

    monkeypatch.setattr(store_turns.fcntl, "flock", counted)
    fd = hold_turn(sqlite_store)
    threading.Timer(0.15, os.close, (fd,)).start()
    writers = [threading.Thread(target=sqlite_store.save_turn, args=(f"s{i}", turn(i), time.time())) for i in range(8)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(5)
    assert sorted(t.reply_id for i in range(8) for t in sqlite_store.history(f"s{i}")) == [turn(i).reply_id for i in range(8)]
    busiest = max(polls.count(t) for t in set(polls))
    assert len(polls) < busiest + 2 * len(writers)  # one thread polled while the turn was held; the rest once each


def test_a_turn_waited_for_leaves_sqlite_only_the_rest_of_the_wait(sqlite_store, monkeypatch):
    import os
    import sqlite3
    import threading

    from faqbot.storage import sqlite as store_sqlite

    monkeypatch.setattr(store_sqlite, "PATIENT_WAIT", 0.4)  # record() writes as the log writer does
    sqlite_store.record("s0", turn(0), 0.5, None)  # connected, with its turn file open
    fd = hold_turn(sqlite_store)
    locker = sqlite3.connect(sqlite_store.path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # a writer outside the queue (a staff purge, say) holds SQLite's lock
    threading.Timer(0.3, os.close, (fd,)).start()  # the turn comes free after 0.3 s
    started = time.monotonic()
    sqlite_store.record("s1", turn(1), 0.5, None)
    assert time.monotonic() - started < 0.55  # 0.3 s for the turn, then the 0.1 s left: not 0.3 + 0.4
    locker.execute("ROLLBACK")
    locker.close()


def test_a_threads_turn_file_closes_with_the_thread(sqlite_store):
    import os
    import threading

    def writers_open():
        return sum(os.path.realpath(f"/proc/self/fd/{n}").endswith("-writers") for n in os.listdir("/proc/self/fd"))

    before = writers_open()
    for n in range(5):
        worker = threading.Thread(target=sqlite_store.record, args=(f"t{n}", turn(n), 0.5, None))
        worker.start()
        worker.join()
    import gc
    gc.collect()
    assert writers_open() <= before + 1  # the checkpointing thread's at most, not one per thread

def wal_frames(path: str) -> int:
    """Return how many frames the WAL holds (a PASSIVE checkpoint of nothing new copies nothing)."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
    finally:
        conn.close()


def test_commits_leave_checkpoints_to_the_background_and_the_log_starts_afresh(sqlite_store, monkeypatch):
    from faqbot.storage import sqlite as store_sqlite

    monkeypatch.setattr(store_sqlite, "CHECKPOINT_EVERY", 3600)  # the thread stays asleep: checkpoint by hand
    for n in range(400):  # several pages a turn: well past SQLite's default of 1,000 pages
        sqlite_store.record(f"s{n}", turn(n), 0.5, None)
    import os

    assert os.path.getsize(sqlite_store.path + "-wal") > 1100 * (4096 + 24)  # no commit checkpointed at 1,000
    sqlite_store.checkpoint()
    sqlite_store.record("after", turn(1000), 0.5, None)
    assert wal_frames(sqlite_store.path) < 20  # the next write started the log again from its beginning
    assert len(sqlite_store.questions_since(0, 1000)) == 401


def test_each_writing_process_starts_one_checkpointing_thread(sqlite_store, monkeypatch):
    import gc

    from faqbot.storage import sqlite as store_sqlite

    monkeypatch.setattr(store_sqlite, "CHECKPOINT_EVERY", 0.01)

    def checkpointers():
        return [t for t in threading.enumerate() if t.name == "faqbot-sqlite-checkpoint" and t.is_alive()]

    before = len(checkpointers())
    sqlite_store.ping()
    assert len(checkpointers()) == before  # a master that only reads before forking starts none
    for n in range(3):
        sqlite_store.record("s1", turn(n), 0.5, None)
    assert len(checkpointers()) == before + 1
    other = storage.from_config({**CONFIG, "DATABASE": sqlite_store.path})
    other.record("s2", turn(9), 0.5, None)
    assert len(checkpointers()) == before + 2
    del other
    gc.collect()
    deadline = time.monotonic() + 2
    while len(checkpointers()) > before + 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(checkpointers()) == before + 1  # a dropped store's thread ends


def test_a_write_is_kept_when_no_checkpointing_thread_can_start(sqlite_store, monkeypatch):
    def no_thread(self):
        raise RuntimeError("can't start new thread")

    with monkeypatch.context() as patch:
        patch.setattr(threading.Thread, "start", no_thread)
        sqlite_store.record("s1", turn(1), 0.5, None)
    assert sqlite_store.history("s1") == [turn(1)]
    sqlite_store.record("s1", turn(2), 0.5, None)  # and the next write starts it
    assert any(t.name == "faqbot-sqlite-checkpoint" for t in threading.enumerate())



def test_the_checkpointing_thread_idles_while_nothing_is_written(sqlite_store, monkeypatch):
    from faqbot.storage import sqlite as store_sqlite

    calls = []
    monkeypatch.setattr(store_sqlite, "CHECKPOINT_EVERY", 0.005)
    monkeypatch.setattr(store_sqlite.SQLiteStore, "checkpoint", lambda self: calls.append(self.written))

    def settle(count):
        deadline = time.monotonic() + 5
        while len(calls) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # twenty more rounds of the thread

    sqlite_store.record("s1", turn(1), 0.5, None)
    settle(1)
    assert calls == [1]  # once after the write, then nothing to copy
    sqlite_store.record("s1", turn(2), 0.5, None)
    settle(2)
    assert calls == [1, 2]


WRITER = """
import sys
from faqbot import storage
from faqbot.answering.conversation import Turn
store = storage.from_config({"SESSION_TTL": 3600, "SESSION_TURNS": 3, "LOG_RETENTION_DAYS": 30,
                             "DATABASE": sys.argv[1], "DATABASE_POOL_SIZE": 1, "DATABASE_TIMEOUT": 1})
for n in range(300):
    store.record("shared", Turn(f"{sys.argv[2]}-{n}", "q", "answer", {}), 0.5, None)
    store.record(f"{sys.argv[2]}-{n}", Turn(f"{sys.argv[2]}-own-{n}", "q", "answer", {}), 0.5, None)
"""


def test_two_processes_writing_at_once_lose_nothing(sqlite_store, caplog):
    import subprocess
    import sys

    with caplog.at_level("WARNING"):
        writers = [subprocess.Popen([sys.executable, "-c", WRITER, sqlite_store.path, name]) for name in "ab"]
        assert [w.wait(60) for w in writers] == [0, 0]
    assert len(sqlite_store.questions_since(0, 5000)) == 1200
    assert len(sqlite_store.history("shared")) == 3 and sqlite_store.history("a-299")[0].reply_id == "a-own-299"


def test_turns_a_workers_threads_save_at_the_same_moment_share_one_transaction(sqlite_store, monkeypatch):
    """Each chat paid for its own transaction and writers' turn: those that finish together under load
    are written by whichever came first, and the others wait asleep for the outcome."""
    import os

    from faqbot.storage import sqlite as store_sqlite

    transactions = []
    real = store_sqlite.writers_turn

    def counted(*args):
        transactions.append(threading.get_ident())
        return real(*args)

    monkeypatch.setattr(store_sqlite, "writers_turn", counted)
    sqlite_store.record("s0", turn(0), 0.5, None)  # connected
    transactions.clear()
    fd = hold_turn(sqlite_store)  # another worker writing: the first chat waits, the others queue behind it
    threading.Timer(0.15, os.close, (fd,)).start()
    writers = [threading.Thread(target=sqlite_store.save_turn, args=(f"s{i}", turn(i), time.time())) for i in range(1, 9)]
    for w in writers:
        w.start()
        time.sleep(0.005)
    for w in writers:
        w.join(5)
    assert [t.reply_id for i in range(1, 9) for t in sqlite_store.history(f"s{i}")] == [turn(i).reply_id for i in range(1, 9)]
    assert len(transactions) == 2  # the first chat's, then the seven that queued during it, together


def slow_group():
    """A turn group whose writes hang until `release` is set, recording what they wrote."""
    from faqbot.storage.turns import Group

    group, release, written = Group(), threading.Event(), []

    def slow(items, wait):
        release.wait(2)
        written.extend(items)
        return True
    return group, release, written, slow


@pytest.mark.stores("sqlite")
def test_a_turn_queued_behind_a_slow_write_gives_up_after_its_wait_and_is_not_written_later():
    """A chat queued behind a write that hangs is not held past its wait; its turn, returned unsaved,
    goes with the question-log row (spool.py), so the group must never write it too."""
    group, release, written, slow = slow_group()

    first = threading.Thread(target=group.join, args=("first", slow, 0.2))
    first.start()
    time.sleep(0.05)
    started = time.monotonic()
    assert group.join("second", slow, 0.1) is False
    assert 0.09 < time.monotonic() - started < 0.3
    release.set()
    first.join(2)
    assert written == ["first"]
    assert group.join("third", lambda items, wait: written.extend(items) or True, 0.1) is True
    assert written == ["first", "third"]


@pytest.mark.stores("sqlite")
def test_a_turn_that_gives_up_leaves_the_queue_itself_not_an_equal_one_queued_before_it():
    """Two queued turns may compare equal: the one that gives up must not take the other's place out,
    or that one would be reported saved without ever being written."""
    group, release, written, slow = slow_group()

    first = threading.Thread(target=group.join, args=("first", slow, 1.0))
    first.start()
    time.sleep(0.05)
    outcome, kept, given_up = [], {"turn": 1}, {"turn": 1}  # equal, not the same
    patient = threading.Thread(target=lambda: outcome.append(group.join(kept, slow, 2.0)))
    patient.start()
    time.sleep(0.05)
    assert group.join(given_up, slow, 0.05) is False  # queued behind `patient`'s equal item, gives up
    release.set()
    first.join(2)
    patient.join(2)
    assert outcome == [True] and written == ["first", kept] and written[1] is kept  # not the one given up
