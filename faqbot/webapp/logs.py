"""JSON log lines, one object per record, that a log shipper can read without a grok pattern."""
from __future__ import annotations

import json
import logging
import sys
import time

ACCESS = "faqbot.access"


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON: time, level, logger, then its fields or message."""

    _second: tuple[int, str] = (-1, "")  # the last second formatted, and its text

    def timestamp(self, created: float) -> str:
        """Return the UTC time to the millisecond, formatting the date and time once a second."""
        second, text = self._second
        if int(created) != second:
            second = int(created)
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second, text  # one assignment: threads see the old pair or the new
        return f"{text}.{int((created - second) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        data = {"ts": self.timestamp(record.created), "level": record.levelname.lower(), "logger": record.name}
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


def log_fields(logger: logging.Logger, fields: dict) -> None:
    """Log one INFO record carrying fields: logger.info(...) without the lookup of the calling line,
    which an access line never shows and which costs a walk up the stack on every request."""
    if logger.isEnabledFor(logging.INFO):
        logger.handle(logger.makeRecord(logger.name, logging.INFO, "(unknown file)", 0, "request", None, None,
                                        extra={"fields": fields}))


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
