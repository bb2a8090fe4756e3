"""JSON log lines, one object per record, that a log shipper can read without a grok pattern."""
from __future__ import annotations

import json
import logging
import sys
import time

ACCESS = "faqbot.access"


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON: time, level, logger, then its fields or message."""

    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        data = {"ts": f"{ts}.{int(record.msecs):03d}Z", "level": record.levelname.lower(), "logger": record.name}
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        else:
            data["message"] = record.getMessage()
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str, separators=(",", ":"))


class StderrHandler(logging.StreamHandler):
    """Write to whatever sys.stderr is now: test runners swap it, and a handler must not keep a closed one."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def access_logger() -> logging.Logger:
    """Return the access logger, giving it its own JSON handler once.

    It does not propagate: the root handler's text format would wrap each object in a prefix.
    """
    logger = logging.getLogger(ACCESS)
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = StderrHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger
