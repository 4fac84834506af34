"""Structured logging (structlog) with a last line of defence against personal data.

Every line goes through the same redaction, whether it was logged with structlog or with the
standard library (uvicorn, SQLAlchemy, FastStream, nats-py…), tracebacks included: the
standard library's records are rendered by structlog's `ProcessorFormatter`, with the same
processors, and the finished line is redacted once more as a whole.
"""

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any, TextIO

import structlog

# A 16-digit run is a NIK until proven otherwise; an Indonesian mobile number starts 08/628/+628.
_NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")
_PHONE = re.compile(r"(?<![\d+])(?:\+?62|0)8\d{7,11}(?!\d)")
# The handler this module installs on the root logger (replaced, never duplicated, on reconfig).
HANDLER_NAME = "botram"


def redact(text: str) -> str:
    """Mask anything shaped like a NIK or a phone number."""
    return _PHONE.sub("[phone]", _NIK.sub("[nik]", text))


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [_redacted(item) for item in value]
    return value


def _redact_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in event_dict.items():
        if not key.startswith("_"):  # structlog's own bookkeeping (`_record`, `_from_structlog`)
            event_dict[key] = _redacted(value)
    return event_dict


class RedactingFormatter(structlog.stdlib.ProcessorFormatter):
    """Renders a standard library record like a structlog event, then redacts the whole line."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _renderer(json: bool) -> Any:
    return (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )


def configure_logging(
    service: str, level: str = "INFO", *, json: bool = False, stream: TextIO | None = None
) -> None:
    """Configure structlog and the standard library's logging for one service process."""
    out = stream or sys.stderr
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            _redact_event,
            _renderer(json),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(out)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(
        RedactingFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _redact_event,
                _renderer(json),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if h.get_name() != HANDLER_NAME] + [handler]
    root.setLevel(level.upper())
    # Access logs would carry URLs; keep them but never at a level that drowns the service.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # Database drivers log statements with their parameters at DEBUG/INFO: redaction masks
    # NIK- and phone-shaped values, not names, so those lines are not written at all.
    # HTTP clients (webhooks, the SMS gateway) log each request's URL at INFO.
    for name in ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool", "asyncpg", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)
