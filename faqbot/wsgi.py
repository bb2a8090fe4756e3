"""WSGI entry point for gunicorn: a bad corpus stops start-up with a clear message, not a traceback."""
from __future__ import annotations

import logging
import sys

from . import create_app
from .corpus import CorpusError


def build():
    """Create the app or exit with the corpus problems listed."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return create_app()
    except CorpusError as exc:
        print("faqbot: cannot start, the corpus has problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        sys.exit(3)


app = build()
