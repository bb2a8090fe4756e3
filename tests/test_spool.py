"""The question log's spool (faqbot/storage/spool.py): bounded, in order, and honest about losses."""
import logging
import threading
import time

from faqbot.answering.conversation import Turn
from faqbot.storage.spool import QuestionLog


class FakeStore:
    """A store whose writes can be made to fail, refuse one row, or raise a bug."""

    max_turns = 6

    def __init__(self):
        self.down, self.refuse, self.bug = False, set(), False
        self.rows, self.sessions = [], {}
        self.lock = threading.Lock()

    def save_turn(self, session_id, turn, now):
        if self.down:
            return False
        self.sessions.setdefault(session_id, []).append(turn)
        return True

    def history(self, session_id):
        return list(self.sessions.get(session_id, []))

    def write_log(self, rows):
        if self.bug:
            raise RuntimeError("a bug in the writer")
        if self.down:
            return []
        outcome = []
        with self.lock:
            for row in rows:
                ok = row.turn.reply_id not in self.refuse
                if ok:
                    self.rows.append(row.turn.reply_id)
                    if not row.session_saved:
                        self.sessions.setdefault(row.session_id, []).append(row.turn)
                outcome.append(ok)
        return outcome


def turn(n):
    return Turn(f"r{n}", f"question {n}", "answer", {})


def test_rows_are_written_in_order_in_the_background():
    store = FakeStore()
    questions = QuestionLog(store)
    for n in range(50):
        questions.record("s", turn(n), 0.5, None)
    assert questions.flush(5)
    assert store.rows == [f"r{n}" for n in range(50)]
    assert questions.state() == {"state": "ok", "pending": 0, "lost": 0}


def test_while_the_database_is_down_rows_wait_and_the_conversation_goes_on(caplog):
    store = FakeStore()
    questions = QuestionLog(store)
    store.down = True
    with caplog.at_level(logging.INFO, logger="faqbot.storage"):
        for n in range(5):
            questions.record("s", turn(n), 0.5, None)
        assert not questions.flush(0.3)
        assert questions.state()["state"] == "spooling" and questions.pending == 5
        # The session turns the database did not take are this process's history meanwhile.
        assert [t.reply_id for t in questions.history("s")] == [f"r{n}" for n in range(5)]
        store.down = False
        assert questions.flush(5)
    assert store.rows == [f"r{n}" for n in range(5)]
    assert [t.reply_id for t in store.history("s")] == [f"r{n}" for n in range(5)]
    assert questions.history("s") == store.history("s")  # no turn twice once written
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert sum(level == "WARNING" for level, _ in messages) == 1  # one warning for the outage, not one per row
    assert any(level == "INFO" and "again" in text for level, text in messages)  # and one line when it is over


def test_a_full_spool_drops_the_oldest_rows_and_counts_them(caplog):
    store = FakeStore()
    store.down = True
    questions = QuestionLog(store, capacity=3)
    with caplog.at_level(logging.WARNING, logger="faqbot.storage"):
        for n in range(5):
            questions.record("s", turn(n), 0.5, None)
    assert questions.state()["lost"] == 2 and questions.pending == 3
    assert any("spool full" in r.getMessage() for r in caplog.records)
    store.down = False
    assert questions.flush(5)
    assert store.rows == ["r2", "r3", "r4"]


def test_a_row_the_database_refuses_is_dropped_alone():
    store = FakeStore()
    store.refuse = {"r1"}
    questions = QuestionLog(store)
    for n in range(3):
        questions.record("s", turn(n), 0.5, None)
    assert questions.flush(5)
    assert store.rows == ["r0", "r2"] and questions.state()["lost"] == 1


def test_a_bug_in_a_write_does_not_end_the_writer(caplog):
    store = FakeStore()
    store.bug = True
    questions = QuestionLog(store)
    with caplog.at_level(logging.ERROR, logger="faqbot.storage"):
        questions.record("s", turn(0), 0.5, None)
        time.sleep(0.3)
    assert any("writer failed" in r.getMessage() for r in caplog.records)
    store.bug = False
    deadline = time.monotonic() + 5
    while store.rows != ["r0"] and time.monotonic() < deadline:  # the thread's own next try, no flush
        time.sleep(0.05)
    assert store.rows == ["r0"]
