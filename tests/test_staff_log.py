"""What visitors asked: the log, its retention, the grouped console view and the CSV export."""
import csv
import io
import sqlite3
import time

import pytest

from staff_fixtures import BEARER, Console, api, console, make_app, staff_app  # noqa: F401

from faqbot.evaluation.analytics import safe_cell


def ask(client, message, session_id=None):
    body = {"message": message, **({"session_id": session_id} if session_id else {})}
    response = client.post("/api/chat", json=body, headers={"User-Agent": "Secret/1.0", "X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 200
    return response.get_json()


def vote(client, reply, vote, comment=None):
    body = {"session_id": reply["session_id"], "reply_id": reply["reply_id"], "vote": vote}
    if comment:
        body["comment"] = comment
    assert client.post("/api/feedback", json=body).status_code == 201


def test_every_turn_is_logged_without_ip_or_user_agent(staff_app):
    client = staff_app.test_client()
    reply = ask(client, "What is remedial massage?")
    vote(client, reply, "up")
    assert staff_app.extensions["faqbot.log"].flush(5)  # the row is written in the background
    db = sqlite3.connect(staff_app.config["DATABASE"])
    row = db.execute("SELECT session_id, message, type, confidence, top_passage, created FROM questions").fetchone()
    assert row[:3] == (reply["session_id"], "What is remedial massage?", "answer")
    assert row[3] > 0.42 and row[4] and abs(row[5] - time.time()) < 60
    dump = "\n".join(db.iterdump())
    assert "203.0.113.9" not in dump and "Secret/1.0" not in dump
    for table in ("questions", "feedback", "sessions"):
        columns = {c[1] for c in db.execute(f"PRAGMA table_info({table})")}
        assert not columns & {"ip", "ip_address", "remote_addr", "user_agent", "agent"}


def test_retention_deletes_old_turns_and_votes(tmp_path):
    app = make_app(tmp_path, LOG_RETENTION_DAYS=30)
    client = app.test_client()
    old, new = ask(client, "What is remedial massage?"), ask(client, "Does it help with posture?")
    vote(client, old, "down", "old")
    assert app.extensions["faqbot.log"].flush(5)
    db = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
    long_ago = time.time() - 31 * 86400
    db.execute("UPDATE questions SET created = ? WHERE reply_id = ?", (long_ago, old["reply_id"]))
    db.execute("UPDATE feedback SET created = ?", (long_ago,))
    store = app.extensions["faqbot.store"]
    store._last_purge = 0.0  # as if the last sweep was long ago: the next turn sweeps
    ask(client, "thanks!")
    assert app.extensions["faqbot.log"].flush(5)  # the writer sweeps after writing
    assert [r[0] for r in db.execute("SELECT reply_id FROM questions")] != []
    ids = {r[0] for r in db.execute("SELECT reply_id FROM questions")}
    assert old["reply_id"] not in ids and new["reply_id"] in ids
    assert db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == 0


def test_console_views_enforce_retention_too(tmp_path):
    app = make_app(tmp_path, LOG_RETENTION_DAYS=7)
    client = app.test_client()
    ask(client, "how much does a massage cost")
    assert app.extensions["faqbot.log"].flush(5)
    db = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
    db.execute("UPDATE questions SET created = ?", (time.time() - 8 * 86400,))
    body = client.get("/api/staff/log?days=365", headers={"Authorization": "Bearer staff-token-0123456789abcdef"})
    assert body.get_json()["days"] == 7 and body.get_json()["total"] == 0
    assert db.execute("SELECT COUNT(*) FROM questions").fetchone()[0] == 0


def test_unanswered_questions_are_grouped_by_wording_with_the_closest_passage(api):
    client = api.client
    for message in ("How much does a massage cost?", "how much does a massage cost", "what does it cost?",
                    "Do you do hot stone massage?", "do you do hot stone massages",
                    "What is remedial massage?"):
        ask(client, message)
    body = api("GET", "log").get_json()
    groups = {g["message"]: g for g in body["unanswered"]}
    cost = next(g for m, g in groups.items() if "cost" in m)
    assert cost["count"] == 3 and len(cost["wordings"]) == 2
    assert cost["why"].startswith("clinic topic")
    stone = next(g for m, g in groups.items() if "stone" in m)
    assert stone["count"] == 2 and stone["closest"]["id"] and stone["closest"]["source"]["title"]
    assert stone["why"].startswith("clinic topic: other therapies")  # recognised by meaning (clinic_topics.toml examples)
    assert body["by_type"]["answer"] == 1 and body["total"] == 6


def test_low_confidence_thumbs_down_and_topics(tmp_path):
    app = make_app(tmp_path, STAFF_LOW_CONFIDENCE=1.01)  # every answer counts as low-confidence
    client = app.test_client()
    first = ask(client, "What is remedial massage?")
    ask(client, "Tell me what remedial massage is")
    bad = ask(client, "Can remedial massage help with back pain?")
    vote(client, bad, "down", "=HYPERLINK(\"http://evil.example\")")
    vote(client, first, "up")
    body = app.test_client().get("/api/staff/log", headers={"Authorization": "Bearer staff-token-0123456789abcdef"}).get_json()
    assert sum(g["count"] for g in body["low_confidence"]) == 3
    [down] = body["downvotes"]
    assert down["message"] == "Can remedial massage help with back pain?" and down["type"] == "answer"
    assert down["comment"].startswith("=HYPERLINK")
    assert body["votes"] == {"up": 1, "down": 1}
    assert sum(t["count"] for t in body["topics"]) == 3 and body["topics"][0]["title"]


def test_csv_export_is_complete_and_spreadsheet_safe(api):
    client = api.client
    reply = ask(client, "=1+2 what is remedial massage?")
    vote(client, reply, "down", "@SUM(A1) wrong")
    ask(client, "+61 400 000 000 how much does it cost?")
    response = api("GET", "export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["message"] for r in rows] == ["'=1+2 what is remedial massage?", "'+61 400 000 000 how much does it cost?"]
    assert rows[0]["votes_down"] == "1" and rows[0]["comments"] == "'@SUM(A1) wrong"
    assert rows[0]["type"] == "answer" and rows[0]["topic"] and rows[0]["time_utc"].endswith("Z")
    assert rows[1]["type"] == "fallback" and rows[1]["top_passage"] == ""


def test_safe_cell_neutralises_every_formula_start():
    for start in "=+-@\t\r":
        assert safe_cell(start + "x") == "'" + start + "x"
    assert safe_cell("plain") == "plain" and safe_cell(None) == "" and safe_cell(0.5) == "0.5"


def test_console_log_page(console):
    client = console.client
    ask(client, "<b>how much</b> does it cost?")
    reply = ask(client, "What is remedial massage?")
    vote(client, reply, "down", "too vague")
    page = console.get("/staff/log?days=7").text
    for text in ("Unanswered questions", "Low-confidence answers", "Thumbs-down answers", "Most asked topics",
                 "too vague", "Download CSV", "&lt;b&gt;how much&lt;/b&gt;", "Explain"):
        assert text in page, text
    assert "<b>how much</b>" not in page
    with console.get("/staff/export.csv") as response:
        assert response.status_code == 200 and "too vague" in response.get_data(as_text=True)


def test_topics_name_passages_by_heading_or_opening_words_never_by_id(console):
    client = console.client
    ask(client, "What is remedial massage?")  # the introduction of an article: no heading
    ask(client, "Can remedial massage boost my immunity?")
    body = console.client.get("/api/staff/log", headers={"Authorization": "Bearer staff-token-0123456789abcdef"}).get_json()
    names = [p["passage"] for topic in body["topics"] for p in topic["passages"]]
    assert "“Massage therapy is mainly done to…”" in names and "Boosts Immunity" in names, names
    page = console.get("/staff/log?days=7").text
    table = page[page.index("Most asked topics"):]
    assert "#1" not in table and "top-benefits#" not in table


def raw_get(origin: str, path: str, version: str, headers: dict) -> bytes:
    """Send one GET over a plain socket and read until the server closes: what any client receives."""
    import socket
    from urllib.parse import urlparse

    url = urlparse(origin)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        lines = [f"GET {path} {version}", f"Host: {url.netloc}", "Connection: close",
                 *(f"{k}: {v}" for k, v in headers.items())]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_an_export_that_fails_mid_download_is_visibly_incomplete(tmp_path, monkeypatch, caplog):
    from werkzeug.serving import make_server
    import threading

    from faqbot.answering.conversation import Turn
    from faqbot.storage.base import StoreUnavailable

    monkeypatch.setattr("faqbot.storage.base.EXPORT_PAGE", 10)
    app = make_app(tmp_path)
    store = app.extensions["faqbot.store"]
    for i in range(35):
        store.record(f"session{i:06d}", Turn(f"reply{i:06d}", f"question {i}", "answer", {}), 0.9, "top-benefits#1")
    real = store._query

    def flaky(sql, params=()):
        if "GROUP BY q.reply_id" in sql and params[3]:  # any export page after the first fails, as a disk would
            raise StoreUnavailable("disk I/O error")
        return real(sql, params)
    monkeypatch.setattr(store, "_query", flaky)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_port}"
    headers = {"Authorization": "Bearer staff-token-0123456789abcdef"}
    try:
        # HTTP/1.1: chunked, and the stream is cut without its last (zero-length) chunk: clients report an error.
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        conn.request("GET", "/api/staff/export.csv?days=30", headers=headers)
        response = conn.getresponse()
        assert response.status == 200 and response.getheader("Transfer-Encoding") == "chunked"
        with pytest.raises(http.client.IncompleteRead) as cut:
            response.read()
        conn.close()
        partial = cut.value.partial.decode("utf-8-sig")
        assert partial.rstrip().splitlines()[-1].startswith("EXPORT INCOMPLETE: the log could not be read after 10 rows")
        raw = raw_get(origin, "/api/staff/export.csv?days=30", "HTTP/1.1", headers)
        assert not raw.endswith(b"0\r\n\r\n")
        # Behind a proxy that reads the body to the close (HTTP/1.0 upstream), the abort may not reach the
        # browser: the file's own last line still says it is cut short.
        rows = list(csv.reader(io.StringIO(partial)))
        assert len(rows) == 1 + 10 + 1 and rows[-1][0].startswith("EXPORT INCOMPLETE")
    finally:
        server.shutdown()
        server.server_close()
    assert any("CSV export failed after 10 rows" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("days", ["a week", "", "nan", "inf", "1_0", "7d", "0x10"])
def test_the_api_refuses_days_that_are_not_a_number(tmp_path, days):
    client = make_app(tmp_path).test_client()
    for path in ("/api/staff/log", "/api/staff/export.csv"):  # both read them as 30 days before
        response = client.get(path, query_string={"days": days}, headers=BEARER)
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_days"


@pytest.mark.parametrize("days, read", [("7", 7), ("0.5", 1), ("-3", 1), ("1e999", 90), ("365", 90)])
def test_the_api_keeps_days_within_a_day_and_the_retention_period(tmp_path, days, read):
    response = make_app(tmp_path).test_client().get("/api/staff/log", query_string={"days": days}, headers=BEARER)
    assert response.status_code == 200 and response.get_json()["days"] == read
