"""The staff knowledge API's limits (staff_knowledge.py), in a module of their own so the OpenAPI document
states them without importing the API, which imports the document back through the request guards."""
from __future__ import annotations

MAX_SHOWN_PASSAGES = 500
MAX_VERSION = 2 ** 63 - 1  # the largest version number a database (a 64-bit integer) can hold
MAX_AUTHOR = 100  # the name a change is recorded under
PROPOSALS, PROPOSAL_TEXT = 3, 300  # the candidates proposed for a logged question, and how much of each is shown
# The clinic's own evaluation sets: how many, how big, and what a set may be called.
MAX_SETS, MAX_SET_CASES = 20, 500
SET_NAME = r"[A-Za-z0-9_.-]{1,60}"
