"""Cross-origin access for the widget on a clinic's own site (FAQBOT_CORS_ORIGINS), and a log line
naming an origin that was refused, so a site's developer learns what to set."""
from __future__ import annotations

import logging

from flask import Flask, request

log = logging.getLogger(__name__)
PUBLIC = r"/api/(chat|feedback|info|openapi\.json)"  # the staff API is never called from a clinic's website
MAX_REMEMBERED = 100  # refused origins logged per worker: one line each, not one per request


def init_app(app: Flask) -> None:
    """Allow the configured origins on the public endpoints; log each other origin once."""
    origins = [o.strip() for o in str(app.config["CORS_ORIGINS"]).split(",") if o.strip()]
    if origins:
        from flask_cors import CORS

        CORS(app, resources={PUBLIC: {"origins": origins}}, supports_credentials=False, max_age=600)
    refused: set[str] = set()

    @app.after_request
    def log_refused_origin(response):
        origin = request.headers.get("Origin")
        own = request.host_url.rstrip("/")
        if (origin and origin != own and origin not in origins and request.path.startswith("/api/")
                and not request.path.startswith("/api/staff") and origin not in refused
                and len(refused) < MAX_REMEMBERED):
            refused.add(origin)
            log.warning("refused a cross-origin request from %s: to embed the widget there, add it to "
                        "FAQBOT_CORS_ORIGINS", origin[:200])
        return response
