"""Answering: from a visitor's message to a reply, in plain Python (no Flask, no database).

The pipeline (pipeline.py) validates, runs the safety gate (safety.py), small talk
(smalltalk.py), retrieval over the index (analysis.py, batch.py, spelling.py, scoring.py,
index.py), reads the conversation (conversation.py) and composes the answer with its citations
(compose.py). May import faqbot.knowledge, faqbot.config and faqbot.data; never storage, the
web layer or evaluation.
"""
