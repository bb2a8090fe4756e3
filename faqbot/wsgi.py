"""WSGI entry point for gunicorn: a bad corpus stops start-up with a clear message, not a traceback."""
from __future__ import annotations

import gc
import logging
import sys

from . import create_app
from .knowledge.corpus import CorpusError


def build():
    """Create the app or exit with the corpus problems listed."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app()
    except CorpusError as exc:
        print("faqbot: cannot start, the corpus has problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        sys.exit(3)
    # Move everything built so far (the index, the corpus) out of the collector's reach, so
    # gunicorn's forked workers don't copy the shared pages just by scanning them.
    gc.freeze()
    return app


app = build()
