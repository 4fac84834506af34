"""RFC 9457 problem details: every HTTP error is `application/problem+json` with a clear message."""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from botram_runtime.errors import DomainError

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://botram.bekasikab.go.id/problems/"


class Problem(Exception):
    """An error a client can act on, rendered as problem+json."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        title: str | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code or HTTPStatus(status).phrase.lower().replace(" ", "-")
        self.title = title or HTTPStatus(status).phrase
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        return body | self.extensions


def problem_response(
    problem: Problem, request: Request | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    instance = request.url.path if request is not None else None
    return JSONResponse(
        problem.body(instance),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def problem_of(error: DomainError) -> Problem:
    """The problem+json a use case's failure answers with."""
    return Problem(error.status, error.detail, code=error.code, **error.extensions)


def install_problem_handlers(app: FastAPI) -> None:
    """Render domain failures, Problem, validation and HTTP errors as problem+json."""

    @app.exception_handler(Problem)
    async def _on_problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(DomainError)
    async def _on_domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(problem_of(exc), request, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # The offending input is left out on purpose: it may be a NIK or a phone number.
        errors = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"]}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors)
        problem = Problem(
            422, detail, code="invalid-request", title="Invalid request", errors=errors
        )
        return problem_response(problem, request)

    @app.exception_handler(StarletteHTTPException)
    async def _on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        problem = Problem(exc.status_code, str(exc.detail))
        return problem_response(problem, request, exc.headers)
