"""Structured logging (structlog) with a last line of defence against personal data."""

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# A 16-digit run is a NIK until proven otherwise; an Indonesian mobile number starts 08/628/+628.
_NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")
_PHONE = re.compile(r"(?<![\d+])(?:\+?62|0)8\d{7,11}(?!\d)")


def redact(text: str) -> str:
    """Mask anything shaped like a NIK or a phone number."""
    return _PHONE.sub("[phone]", _NIK.sub("[nik]", text))


def _redact_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = redact(value)
    return event_dict


def configure_logging(service: str, level: str = "INFO", *, json: bool = False) -> None:
    """Configure structlog and the standard library's logging for one service process."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _redact_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    logging.basicConfig(
        stream=sys.stderr, level=level.upper(), format="%(levelname)s %(name)s %(message)s"
    )
    # Access logs would carry URLs; keep them but never at a level that drowns the service.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # Database drivers log statements with their parameters at DEBUG/INFO, past the redaction
    # above (it sees only structlog events): a NIK or a phone number would reach the log.
    # HTTP clients (webhooks, the SMS gateway) log each request's URL at INFO, past it too.
    for name in ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool", "asyncpg", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)
