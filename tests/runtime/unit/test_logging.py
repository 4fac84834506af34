"""Logs never carry personal data: redaction, and loggers that bypass it kept quiet."""

import logging
from collections.abc import Iterator

import pytest
import structlog

from botram_runtime.logging import configure_logging, redact


def test_nik_and_phone_numbers_are_masked() -> None:
    line = "citizen 3216054507900001 phone 081234567890 or +6281234567890, ticket KK-001"

    assert redact(line) == "citizen [nik] phone [phone] or [phone], ticket KK-001"


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    structlog.reset_defaults()
    root.setLevel(level)
    root.handlers[:] = handlers


@pytest.mark.usefixtures("restored_logging")
@pytest.mark.parametrize("logger", ["httpx", "sqlalchemy.engine", "aiosqlite", "asyncpg"])
def test_loggers_that_would_print_urls_or_statement_parameters_stay_below_info(
    logger: str,
) -> None:
    configure_logging("test", "DEBUG")

    assert not logging.getLogger(logger).isEnabledFor(logging.INFO)
