"""JSON log lines (one object per line) for the service and the CLI.

Every line logged while a request is handled carries its ``request_id`` (the one the
client sees in ``x-request-id``), also from the threads the request hands work to:
:func:`bind_request_id` sets a context variable, which ``asyncio`` copies into the tasks
and ``to_thread`` calls it starts. A ContextVar is per request by construction, not
shared state.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = ["JsonFormatter", "bind_request_id", "configure_logging", "current_request_id"]

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_REQUEST_ID: ContextVar[str | None] = ContextVar("ai_gateway_request_id", default=None)


def bind_request_id(request_id: str) -> Token[str | None]:
    """Tag every log line of the current request (and what it spawns) with its id."""
    return _REQUEST_ID.set(request_id)


def current_request_id() -> str | None:
    return _REQUEST_ID.get()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = _REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
