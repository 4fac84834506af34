"""The HTTP edge: an unexpected error answers problem+json 500 with an id and nothing of its
message; a body over the limit is 413; the standard library's log lines, tracebacks too, are
redacted like structlog's."""

import io
import logging

import httpx
import structlog
from fastapi import FastAPI, Request

from botram_runtime.edge import HttpEdge
from botram_runtime.logging import RedactingFormatter
from botram_runtime.problems import install_problem_handlers

NIK, PHONE = "3216054507900001", "081234567890"


def app_that_fails() -> FastAPI:
    app = FastAPI()
    app.add_middleware(HttpEdge, max_body_bytes=100)
    install_problem_handlers(app)

    @app.post("/boom")
    async def boom(request: Request) -> None:
        await request.body()
        raise RuntimeError(f"row ({NIK}, 'Siti Aminah', {PHONE}) refused")

    return app


async def test_an_unexpected_error_answers_500_with_an_id_and_none_of_its_message() -> None:
    transport = httpx.ASGITransport(app=app_that_fails())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.post("/boom", content=b"{}")

    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"].endswith("/internal-error") and len(body["error_id"]) == 32
    assert body["error_id"] in body["detail"]
    assert NIK not in answer.text and "Siti" not in answer.text and PHONE not in answer.text


async def test_a_body_over_the_limit_is_413() -> None:
    transport = httpx.ASGITransport(app=app_that_fails())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.post("/boom", content=b"x" * 101)

    assert (answer.status_code, answer.json()["type"].rsplit("/", 1)[1]) == (413, "body-too-large")


def test_standard_library_lines_and_tracebacks_are_redacted() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        RedactingFormatter(
            processors=[
                RedactingFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.dev.ConsoleRenderer(colors=False),
            ]
        )
    )
    logger = logging.getLogger("botram.test.edge")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError(f"citizen {NIK} phone {PHONE}")
        except ValueError:
            logger.exception("uvicorn-style failure for %s", PHONE)
    finally:
        logger.removeHandler(handler)

    text = out.getvalue()
    assert "ValueError" in text and "[nik]" in text and "[phone]" in text
    assert NIK not in text and PHONE not in text
