"""Storage: conversations, the question log and feedback, behind one interface (base.Store).

Owns the database: SQLite (sqlite.py, the default, a file needing no set-up) or PostgreSQL
(postgres.py, for several instances sharing one state). May import faqbot.config and the
answering records (a conversation Turn); never the web layer. `from_config` picks the engine.
"""
from __future__ import annotations

import re

from .base import Downvote, ExportRow, LoggedQuestion, Store, StoreUnavailable
from .spool import QuestionLog

__all__ = ["Downvote", "ExportRow", "LoggedQuestion", "QuestionLog", "Store", "StoreUnavailable", "database_url", "from_config",
           "redact"]


def database_url(config) -> str:
    """Return the configured database: FAQBOT_DATABASE_URL, else DATABASE_URL, else the SQLite file."""
    return config.get("DATABASE_URL") or config["DATABASE"]


def redact(url: str) -> str:
    """Hide a URL's password, for messages and logs."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def from_config(config) -> Store:
    """Build the store the configuration names: PostgreSQL for a postgres:// URL, else SQLite."""
    url = database_url(config)
    # At least one turn: a follow-up needs the one before it.
    args = (config["SESSION_TTL"], max(1, int(config["SESSION_TURNS"])), config["LOG_RETENTION_DAYS"])
    scheme = re.match(r"^([a-z][a-z0-9+.-]*)://", url)
    if scheme and scheme.group(1) not in ("postgres", "postgresql", "sqlite"):
        raise ValueError(f"unsupported database URL {redact(url)}: use postgresql://... or sqlite:///path")
    if url.startswith(("postgres://", "postgresql://")):
        from .postgres import PostgresStore

        return PostgresStore(url, *args, pool_size=int(config["DATABASE_POOL_SIZE"]),
                             timeout=float(config["DATABASE_TIMEOUT"]))
    from .sqlite import SQLiteStore

    return SQLiteStore(url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url, *args)
