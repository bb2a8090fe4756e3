"""gunicorn settings for the Procfile (`-c python:faqbot.gunicorn_conf`): let a worker that is done exit at once.

Importing onnxruntime starts two threads in the master. A worker forked from it has only their
state, and at exit onnxruntime's C++ destructors wait for those threads forever
(pthread_cond_destroy), or abort. Every stopping worker then hung until gunicorn killed it at
--graceful-timeout (20 s): a SIGTERM took 21.7 s, a SIGHUP or an upgrade kept the old workers
around as long. By the time gunicorn calls worker_exit the worker has finished its requests
(within the graceful timeout) and closed its sockets, so nothing is left but the destructors,
and the question log's rows still waiting to be written, which the hook writes first.
"""
from __future__ import annotations

import logging
import os
import sys


def worker_exit(server, worker) -> None:
    """Flush the logs and leave with the worker's own exit status, skipping the interpreter's teardown."""
    exc = sys.exc_info()[1]  # gunicorn calls this hook while the worker's sys.exit(status) unwinds
    if isinstance(exc, SystemExit):
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    else:
        status = 0 if exc is None else 1
    # os._exit runs no atexit handler: write the question log's waiting rows first (storage/spool.py).
    spool = sys.modules.get("faqbot.storage.spool")
    if spool is not None:
        try:
            spool.flush_all()
        except Exception:  # logged by the spool; the exit must go on
            logging.getLogger(__name__).exception("question log: flushing at exit failed")
    for handler in [h for name in ("", "gunicorn.error", "gunicorn.access") for h in logging.getLogger(name).handlers]:
        try:
            handler.flush()
        except Exception:  # a closed stream must not keep the worker alive
            pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    # The status matters: gunicorn's master stops when a worker exits with 3 (boot error) or 4 (app load error).
    os._exit(status & 0xFF)
