"""faqbot: a safe, fast FAQ chatbot over a clinic's articles."""
from __future__ import annotations

import os

# One BLAS thread per process, set before numpy is first imported: the workers and their threads
# are the parallelism. OpenBLAS otherwise starts threads of its own for a matrix-vector product as
# small as the red-flag bank's, and they spin against the web threads (measured in process: 6.2
# against 11.6 ms of CPU a chat; under gunicorn 21.8 ms). Set either variable to override.
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

import importlib
import importlib.util
import logging
import time

from flask import Flask, current_app, jsonify

from . import config as config_module
from . import building, reindex, storage
from .config import Settings

log = logging.getLogger("faqbot")


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app: load configuration, build the index once, wire the blueprints.

    Raises corpus.CorpusError (listing every bad file) when the corpus can't be served.
    """
    app = Flask(__name__)
    app.config.from_mapping(config_module.load(test_config, app.instance_path))
    settings = Settings.from_mapping(app.config)
    store = storage.from_config(app.config)
    store.ping()  # create the database now (a bad path logs a warning at start-up)
    started = time.perf_counter()
    # The published knowledge, from the database (a fresh one imports corpus/ as version 1).
    knowledge, version = building.published(settings, store)
    bot, corpus = building.build_from(settings, knowledge, version)
    log.info("indexed %d passages (knowledge version %d) in %.0f ms", len(bot.index), version,
             (time.perf_counter() - started) * 1000)
    store.close()  # let each worker open its own connection after the fork
    app.extensions["faqbot"] = bot
    app.extensions["faqbot.knowledge"] = knowledge
    app.extensions["faqbot.corpus"] = corpus  # what the staff console shows: described once, as built
    app.extensions["faqbot.store"] = store
    # Chats save their turn at once and leave the question-log row to a background writer.
    app.extensions["faqbot.log"] = storage.QuestionLog(store, capacity=int(app.config["LOG_SPOOL"]))

    from .webapp import api
    from . import errors

    errors.register(app)
    app.register_blueprint(api.bp)
    # Optional concerns, each a module with init_app(app) or a blueprint `bp`: the widget, the
    # staff console and production hardening. A module present but broken fails loudly here.
    for name in ("widget", "staff", "staff_pages_knowledge", "security"):
        if importlib.util.find_spec(f"{__name__}.webapp.{name}") is not None:
            module = importlib.import_module(f"{__name__}.webapp.{name}")
            init = getattr(module, "init_app", None)
            init(app) if init else app.register_blueprint(module.bp)
    from .webapp import cors

    cors.init_app(app)

    @app.get("/healthz")
    def healthz():
        """Report that the service can answer."""
        # The current bot, not the one built here: a reindex swaps it.
        return jsonify({"status": "ok", "passages": len(current_app.extensions["faqbot"].index)})

    return app
