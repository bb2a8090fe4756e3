"""What the peer bots of benchmarks/peers.py share: faqbot's passages, and a Flask app that
answers POST /api/chat in faqbot's JSON shape around a search function.

A peer does what a plain FAQ bot over the same articles would: find the top 3 passages, quote
the first one with a fixed disclaimer. No database, no sessions, no safety screen, no rate
limits, no logging: nothing but the search it is named after.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from flask import Flask, jsonify, request

from faqbot import config
from faqbot.knowledge.corpus import load_corpus
from faqbot.knowledge.passages import Passage, split_corpus

TOP_K = 3
WORD = re.compile(r"[a-z0-9]+")
SETTINGS = config.load()  # the same defaults and FAQBOT_* overrides faqbot reads
CONTACT = {"name": SETTINGS["CLINIC_NAME"], "phone": SETTINGS["CLINIC_PHONE"], "email": SETTINGS["CLINIC_EMAIL"],
           "booking_url": SETTINGS["CLINIC_BOOKING_URL"]}

Search = Callable[[str], list[tuple[Passage, float]]]


def passages() -> list[Passage]:
    """faqbot's passages of the configured corpus, split as faqbot splits them."""
    docs, _ = load_corpus(SETTINGS["CORPUS_DIR"], strict=True)
    return split_corpus(docs)


def passage_text(p: Passage) -> str:
    """What a peer indexes for a passage: its heading, its text and the visitor questions it answers."""
    return " ".join(filter(None, (p.heading, p.text, *p.questions)))


def tokenize(text: str) -> list[str]:
    """A simple tokenizer: lower-cased runs of letters and digits."""
    return WORD.findall(text.lower())


def reply(message: str, hits: list[tuple[Passage, float]], session_id: str) -> dict:
    """The reply in faqbot's shape: the top passage quoted, the top 3 listed."""
    top = hits[0][0] if hits else None
    answer = (f"Our article \u201c{top.doc_title}\u201d says: {' '.join(top.sentences[:2]) or top.text}" if top
              else "Sorry, I couldn't find an answer to that in our articles.")
    return {
        "session_id": session_id, "reply_id": secrets.token_urlsafe(9), "type": "answer" if top else "fallback",
        "answer": answer,
        "passages": [{"id": p.id, "text": p.text, "score": round(float(score), 4),
                      "source": {"id": p.doc_id, "title": p.doc_title, "heading": p.heading, "url": p.url}}
                     for p, score in hits],
        "disclaimer": SETTINGS["DISCLAIMER"], "suggestions": [], "caution": None,
        "confidence": round(float(hits[0][1]), 4) if hits else 0.0, "actions": [], "contact": CONTACT,
    }


def make_app(name: str, search: Search) -> Flask:
    """A Flask app answering POST /api/chat {"message", "session_id"?} with search's top passages."""
    app = Flask(name)

    @app.post("/api/chat")
    def chat():
        data = request.get_json(silent=True)
        message = data.get("message") if isinstance(data, dict) else None
        if not isinstance(message, str) or not message.strip():
            return jsonify({"error": {"code": "missing_field", "message": "The field 'message' is required."}}), 400
        session_id = data.get("session_id")
        if not isinstance(session_id, str):
            session_id = secrets.token_urlsafe(16)
        return jsonify(reply(message, search(message.strip()), session_id))

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    return app


def top(scores, items: list, k: int = TOP_K) -> list[tuple]:
    """The k items of highest score, best first, with their scores."""
    order = sorted(range(len(items)), key=lambda i: -scores[i])[:k]
    return [(items[i], float(scores[i])) for i in order]
