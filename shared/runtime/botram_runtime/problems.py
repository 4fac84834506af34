"""RFC 9457 problem details: every HTTP error is `application/problem+json` with a clear message."""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from botram_runtime.access import api_routes, rule_of
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
        problem = Problem(exc.status_code, str(exc.detail), code=getattr(exc, "problem_code", None))
        return problem_response(problem, request, exc.headers)


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem: `type` ends with a stable code; extensions may follow.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "error_id": {"type": "string", "description": "500 only: quote it when reporting"},
        "errors": {
            "type": "array",
            "description": "422 only: each field refused and why (never its value)",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}
_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def document_problems(app: FastAPI) -> None:
    """Make the OpenAPI document tell the truth about errors: every operation answers them as
    problem+json (FastAPI documents its own 422 shape, which Botram never sends)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        components["Problem"] = PROBLEM_SCHEMA
        protected = {
            (method.lower(), path)
            for method, path, route in api_routes(app)
            if (rule := rule_of(route)) is not None and not rule.public
        }
        for path, path_item in schema.get("paths", {}).items():
            for method, operation in path_item.items():
                responses = operation.setdefault("responses", {})
                _declare_errors(responses, protected=(method, path) in protected, path=path)
                if "422" in responses:
                    responses["422"] = {
                        "description": "The request is invalid (problem+json)",
                        "content": _PROBLEM_CONTENT,
                    }
                responses["default"] = {
                    "description": "An error (problem+json)",
                    "content": _PROBLEM_CONTENT,
                }
        _wall_clock_times(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# The errors an operation can answer, declared where they apply (besides 422 and `default`).
_ERRORS = {
    "401": "No token, or an invalid or expired one (problem+json, `WWW-Authenticate: Bearer`)",
    "403": "The token's role (or agency) may not do this (problem+json)",
    "404": "Not found, or not the caller's to see (problem+json)",
}


def _declare_errors(responses: dict[str, Any], *, protected: bool, path: str) -> None:
    wanted = (["401", "403"] if protected else []) + (["404"] if "{" in path else [])
    for status in wanted:
        responses.setdefault(status, {"description": _ERRORS[status], "content": _PROBLEM_CONTENT})


def _wall_clock_times(node: Any) -> None:
    """Times of day (a session's start and end, in WIB) are wall-clock `HH:MM:SS` without an
    offset: RFC 3339's partial-time, not the zoned `time` format pydantic names."""
    if isinstance(node, dict):
        if node.get("format") == "time":
            node["format"] = "partial-time"
            node.setdefault("pattern", r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
        for child in node.values():
            _wall_clock_times(child)
    elif isinstance(node, list):
        for child in node:
            _wall_clock_times(child)
