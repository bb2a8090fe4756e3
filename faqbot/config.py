"""Configuration in one place: safe defaults, overridden by FAQBOT_* environment variables."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields
from pathlib import Path

DEFAULTS: dict = {
    "CORPUS_DIR": "corpus",
    "CORPUS_STRICT": True,  # refuse to start when any corpus file is bad
    "DATABASE": "",  # SQLite file; empty: <instance folder>/faqbot.sqlite3
    # postgresql://user:pass@host/db shares state between instances; empty: DATABASE_URL (the
    # platform's variable) if set, else the SQLite file above.
    "DATABASE_URL": "",
    "DATABASE_POOL_SIZE": 4,  # PostgreSQL connections per worker process, at most
    "DATABASE_TIMEOUT": 0.5,  # seconds a visitor may wait for PostgreSQL before it is skipped
    "MAX_MESSAGE_LENGTH": 1000,
    "MAX_CONTENT_LENGTH": 16 * 1024,  # bytes of request body (Flask's own key)
    "SESSION_TTL": 30 * 60,  # seconds a quiet conversation is remembered
    "SESSION_TURNS": 6,  # recent turns kept per session
    "LOG_RETENTION_DAYS": 90,
    # Question-log rows a worker keeps in memory while the database is down (oldest dropped
    # beyond): 20,000 is over 30 minutes of 20 chats/s across two workers.
    "LOG_SPOOL": 20_000,
    "TOP_K": 3,
    "BM25_VARIANT": "plus",
    "BM25_K1": 1.2,
    "BM25_B": 0.75,
    "STEMMING": True,
    "CONFIDENCE_THRESHOLD": 0.35,
    "CONTEXT_WEIGHT": 0.5,
    "MIN_KEYNESS": 10.0,  # how much more often than in everyday English a matched term must occur
    "EVERYDAY_KEYNESS": 5.0,  # words used less than this much more often than in English weigh less in confidence
    "UNSEEN_WEIGHT": 0.7,  # IDF of a rare word the corpus lacks, as a share of the largest IDF
    "VARIANT_BOOST": 1,  # times a passage's visitor questions are repeated in its index text
    "VARIANT_WEIGHT": 2.0,  # score multiplier (1 + w * similarity) for restating a visitor question
    # The local sentence-embedding model beside BM25 (faqbot/answering/semantic.py). Off, or a
    # missing or corrupt model file: BM25 alone, with the hand-set confidence threshold.
    "SEMANTIC": True,
    "SEMANTIC_MODEL_DIR": "",  # empty: the model shipped in faqbot/data/model
    "SEMANTIC_WEIGHT": 0.5,  # share of the meaning score in the fused ranking (BM25 has the rest)
    "EMBEDDING_CACHE_DIR": "",  # vectors of the corpus and example banks; empty: the instance folder
    "CLINIC_NAME": "Harbourside Remedial Massage",
    "CLINIC_PHONE": "(02) 5550 1234",
    "CLINIC_EMAIL": "hello@harbourside-massage.example",
    "CLINIC_BOOKING_URL": "https://harbourside-massage.example/book",
    # The demo clinic is in Sydney. Urgent replies say these and offer a call button for each service
    # (comma-separated) that names one number: "Lifeline 13 11 14, 13YARN 13 92 76".
    "EMERGENCY_NUMBER": "000",
    "CRISIS_LINES": "Lifeline 13 11 14",
    "DISCLAIMER": (
        "General information from our articles, not medical advice. It can't diagnose or "
        "treat you: for a health concern see your doctor, and in an emergency call your local "
        "emergency number."
    ),
    "STARTERS": [
        "What is remedial massage?",
        "Can remedial massage help with back pain?",
        "What happens at the first appointment?",
        "How is it different from a relaxation massage?",
    ],
    "GREETING": "Hi! I can answer questions about remedial massage. What would you like to know?",
    "EVAL_FILE": "eval/questions.json",
    "EVAL_MIN_HIT1": 0.9,
    "EVAL_MIN_HIT3": 0.95,
    "EVAL_MIN_KIND_ACCURACY": 1.0,  # fallback, urgent, smalltalk, caution, multi-turn
    "CORS_ORIGINS": "",
    # Production hardening (faqbot/security.py). Limits are per client address and per worker
    # with the in-memory store; point RATELIMIT_STORAGE_URI at redis:// to share them.
    "RATELIMIT_ENABLED": None,  # None: on, except in TESTING apps (the suite posts hundreds of chats)
    "RATELIMIT_CHAT": "30/minute;300/hour",
    "RATELIMIT_FEEDBACK": "20/minute;200/hour",
    "RATELIMIT_STAFF_AUTH": "10/minute;100/day",  # wrong staff tokens per address before a lockout
    "RATELIMIT_STORAGE_URI": "memory://",
    # When a shared (redis://) store is down, limit per worker in memory instead of failing
    # requests, and don't let a hung Redis hold a visitor for more than half a second.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_STORAGE_OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
    "RATELIMIT_STRATEGY": "sliding-window-counter",  # no double burst at a window's edge
    "TRUSTED_PROXIES": 0,  # proxies in front whose X-Forwarded-For/-Proto to believe; 0 trusts none
    # Seconds a visitor's request body may take to arrive, in all (faqbot/webapp/bodies.py): a client
    # that stalls mid-body then gets a 408 instead of holding a server thread. 0 turns the deadline off.
    "BODY_TIMEOUT": 10.0,
    "MAX_JSON_DEPTH": 20,  # deeper request JSON is refused before the parser can recurse into a 500
    "CONTENT_SECURITY_POLICY": "",  # empty: security.DEFAULT_CSP on HTML pages that set none
    "HSTS_MAX_AGE": 31536000,  # seconds, sent on HTTPS requests only; 0 turns it off
    "ACCESS_LOG": True,  # one JSON object per request on stderr
    "LOG_MESSAGES": False,  # put visitors' chat messages in the access log (personal data)
    "STAFF_TOKEN": "",  # empty: the staff console and /api/staff are off (404)
    "SECRET_KEY": "",  # empty: derived from STAFF_TOKEN, so every worker signs cookies alike
    "STAFF_SESSION_HOURS": 12,  # a console login lasts this long
    "STAFF_LOW_CONFIDENCE": 0.6,  # answers below this confidence are listed for review
    "REINDEX_CHECK_SECONDS": 1.0,  # how often a worker looks for a newer corpus version
}
# Text settings stay text even when they look like JSON: a token "123456", a phone number
# "1300123456", a clinic called "true".
TEXT_KEYS = {key for key, value in DEFAULTS.items() if isinstance(value, str)}


@dataclass(frozen=True)
class Settings:
    """The plain-Python view of the configuration that the pipeline reads."""

    CORPUS_DIR: str
    CORPUS_STRICT: bool
    MAX_MESSAGE_LENGTH: int
    SESSION_TTL: int
    SESSION_TURNS: int
    TOP_K: int
    BM25_VARIANT: str
    BM25_K1: float
    BM25_B: float
    STEMMING: bool
    CONFIDENCE_THRESHOLD: float
    CONTEXT_WEIGHT: float
    UNSEEN_WEIGHT: float
    MIN_KEYNESS: float
    EVERYDAY_KEYNESS: float
    VARIANT_BOOST: int
    VARIANT_WEIGHT: float
    SEMANTIC: bool
    SEMANTIC_MODEL_DIR: str
    SEMANTIC_WEIGHT: float
    EMBEDDING_CACHE_DIR: str
    CLINIC_NAME: str
    CLINIC_PHONE: str
    CLINIC_EMAIL: str
    CLINIC_BOOKING_URL: str
    EMERGENCY_NUMBER: str
    CRISIS_LINES: str
    DISCLAIMER: str
    STARTERS: list
    GREETING: str

    @classmethod
    def from_mapping(cls, mapping) -> "Settings":
        """Pick the pipeline's settings out of a Flask config or a dict."""
        return cls(**{f.name: mapping.get(f.name, DEFAULTS[f.name]) for f in fields(cls)})


_SWITCH_WORDS = {"on": True, "true": True, "yes": True, "1": True,
                 "off": False, "false": False, "no": False, "0": False}


def from_env(environ=None, prefix: str = "FAQBOT_") -> dict:
    """Read FAQBOT_* variables, JSON-decoding values as Flask's from_prefixed_env does."""
    environ = os.environ if environ is None else environ
    out = {}
    for key, raw in environ.items():
        if key.startswith(prefix):
            if key[len(prefix):] in TEXT_KEYS:
                out[key[len(prefix):]] = raw
                continue
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
            default = DEFAULTS.get(key[len(prefix):])
            if isinstance(default, bool) and isinstance(value, str):
                # "off" is not JSON, so it arrived as the string "off", which is truthy: read the
                # words people write for a switch, and refuse anything else rather than guess.
                word = value.strip().lower()
                if word not in _SWITCH_WORDS:
                    raise ValueError(f"{key}={raw!r}: expected one of on/off, true/false, yes/no, 1/0")
                value = _SWITCH_WORDS[word]
            if isinstance(default, list) and not isinstance(value, list):
                value = [value]  # FAQBOT_STARTERS="What is it?" means one starter, not its letters
            out[key[len(prefix):]] = value
    return out


def load(overrides: dict | None = None, instance_path: str | None = None) -> dict:
    """Return defaults, then environment, then overrides, with the database path resolved."""
    config = {**DEFAULTS, **from_env(), **(overrides or {})}
    # The platform's DATABASE_URL (as Heroku-style hosts set it) when nothing of ours names a database.
    if not config["DATABASE_URL"] and "DATABASE" not in (overrides or {}) and not os.environ.get("FAQBOT_DATABASE"):
        config["DATABASE_URL"] = os.environ.get("DATABASE_URL", "")
    folder = Path(instance_path or "instance")
    if not config["DATABASE"]:
        config["DATABASE"] = str(folder / "faqbot.sqlite3")
    if not config["EMBEDDING_CACHE_DIR"]:
        config["EMBEDDING_CACHE_DIR"] = str(folder)
    return config
