"""Observability: request ids, one JSON access line per request (no secrets, no messages by default), /readyz."""
import json
import logging
import os
import re
from types import SimpleNamespace

import pytest
from test_security import HEX_ID, chat, make_app

from faqbot.webapp import logs


@pytest.fixture
def access_log():
    """Collect the access log's records (the logger doesn't propagate to pytest's handler)."""
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger(logs.ACCESS)
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


# --- request ids and access logs ---------------------------------------------------------------

def test_request_id_is_echoed_when_plain_and_replaced_when_not(client):
    assert client.get("/healthz", headers={"X-Request-ID": "lb-7f3a:92"}).headers["X-Request-ID"] == "lb-7f3a:92"
    for hostile in ("a b", "x" * 129, 'id" {"status":200}', "caf\u00e9", ""):
        assert HEX_ID.match(client.get("/healthz", headers={"X-Request-ID": hostile}).headers["X-Request-ID"])
    assert client.get("/healthz").headers["X-Request-ID"] != client.get("/healthz").headers["X-Request-ID"]


def test_one_json_access_line_per_request_without_message_text(client, access_log):
    response = chat(client, "Can massage help my lower back pain?", headers={"X-Request-ID": "req-1"})
    chat(client, "I have crushing chest pain")
    client.get("/nowhere?token=s3cret")
    assert [r.fields["status"] for r in access_log] == [200, 200, 404]
    first = json.loads(logs.JsonFormatter().format(access_log[0]))
    assert first["request_id"] == "req-1" == response.headers["X-Request-ID"]
    assert first["route"] == "/api/chat" and first["method"] == "POST" and first["answer_type"] == "answer"
    assert isinstance(first["duration_ms"], float) and first["ts"].endswith("Z")
    assert access_log[1].fields["answer_type"] == "urgent"
    assert access_log[2].fields["route"] is None and access_log[2].fields["path"] == "/nowhere"
    lines = [logs.JsonFormatter().format(r) for r in access_log]
    assert all("\n" not in line for line in lines)
    assert not any(word in "".join(lines) for word in ("lower back", "chest", "s3cret"))


def test_messages_are_logged_only_when_configured(tmp_path, access_log):
    chat(make_app(tmp_path, LOG_MESSAGES=True).test_client(), "Can massage help my lower back pain?")
    assert access_log[-1].fields["message"] == "Can massage help my lower back pain?"


def test_secrets_never_reach_the_access_log(tmp_path, access_log):
    client = make_app(tmp_path, STAFF_TOKEN="tok-very-secret-123").test_client()
    client.set_cookie("session", "cookie-secret-456")
    client.get("/api/info?key=query-secret-789", headers={"Authorization": "Bearer header-secret-000"})
    client.post("/api/chat", json={"message": "hi", "password": "body-secret-111"})
    text = "".join(logs.JsonFormatter().format(r) for r in access_log)
    assert not re.search(r"secret", text), text


def test_access_log_can_be_turned_off(tmp_path, access_log):
    chat(make_app(tmp_path, ACCESS_LOG=False).test_client())
    assert access_log == []


def test_access_log_writes_to_the_current_stderr(capsys):
    logger = logs.access_logger()
    logger.info("request", extra={"fields": {"status": 200}})
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert json.loads(line)["status"] == 200


def test_access_line_time_is_utc_to_the_millisecond():
    formatter = logs.JsonFormatter()
    for created, ts in ((1700000000.9996, "2023-11-14T22:13:20.999Z"), (1700000001.5, "2023-11-14T22:13:21.500Z"),
                        (1700000000.25, "2023-11-14T22:13:20.250Z")):  # back to a second already formatted
        record = logging.LogRecord(logs.ACCESS, logging.INFO, "", 0, "request", None, None)
        record.created = created
        assert json.loads(formatter.format(record))["ts"] == ts


def test_log_fields_respects_the_level(access_log):
    logger = logs.access_logger()
    logs.log_fields(logger, {"status": 204})
    logger.setLevel(logging.WARNING)
    try:
        logs.log_fields(logger, {"status": 500})
    finally:
        logger.setLevel(logging.INFO)
    assert [r.fields for r in access_log] == [{"status": 204}]


# --- readiness ---------------------------------------------------------------------------------

def test_readyz_reports_index_and_database(app, client):
    assert client.get("/readyz").get_json() == {"status": "ready", "checks": {"index": True, "database": True},
                                                "semantic": "ok",
                                                "question_log": {"state": "ok", "pending": 0, "lost": 0},
                                                "limits": "off"}  # off in TESTING apps
    os.remove(app.config["DATABASE"])
    # Reported, not required: this instance still answers visitors, so a load balancer keeps it.
    gone = client.get("/readyz")
    assert gone.status_code == 200 and gone.get_json()["checks"] == {"index": True, "database": False}
    assert client.get("/healthz").status_code == 200  # alive: it still answers visitors
    assert chat(client).status_code == 200


def test_metrics_report_the_workers_stores_in_prometheus_text(app, client):
    assert client.post("/api/chat", json={"message": "What is remedial massage?"}).status_code == 200
    assert app.extensions["faqbot.log"].flush(5)
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    values = {line.split("{")[0]: float(line.rsplit(" ", 1)[1])
              for line in response.get_data(as_text=True).splitlines() if not line.startswith("#")}
    assert values["faqbot_up"] == 1 and values["faqbot_database_up"] == 1
    assert values["faqbot_question_log_written_total"] >= 1 and values["faqbot_question_log_lost_total"] == 0
    assert values["faqbot_question_log_pending"] == 0 and values["faqbot_question_log_spooling"] == 0
    assert f'pid="{os.getpid()}"' in response.get_data(as_text=True)


def test_readyz_fails_without_an_index(app, client):
    app.extensions["faqbot"] = SimpleNamespace(index=[])
    assert client.get("/readyz").status_code == 503
