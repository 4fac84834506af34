"""The HTTP edge every service shares: what is refused before a route runs, and the last answer.

- A body larger than the limit is refused with 413 before it is read (by its Content-Length,
  or as soon as a chunked body passes the limit): a 20 MB body is never parsed.
- A path or query string holding control characters (NUL: PostgreSQL refuses it and its
  error would carry the statement's context) is refused with 422.
- Any error no handler turned into a problem becomes a problem+json 500 carrying an error id.
  The log line has that id, the error's type and where it was raised, never its message or
  the request (either may hold a NIK, a name or a phone number); the client sees only the id.
"""

import traceback
import uuid
from pathlib import Path
from urllib.parse import unquote_plus

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from botram_runtime.inputs import refused_character
from botram_runtime.problems import Problem, problem_response

log = structlog.get_logger(__name__)

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# The frames of an unexpected error's traceback that its log line names (file, line, function).
LOGGED_FRAMES = 8


class BodyTooLarge(HTTPException):
    """Raised inside `receive` once a body passes the limit; answered with 413.

    An HTTP exception, so that FastAPI's body parsing (which turns any other error while
    reading into a 400) lets it through to the problem handlers.
    """

    problem_code = "body-too-large"

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


class HttpEdge:
    """ASGI middleware: the body limit, the path and query check, and the catch-all 500."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await problem_response(refusal)(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, self._limited(receive), send_tracked)
        except BodyTooLarge:
            if not started:
                await problem_response(self._too_large())(scope, receive, send)
        except Exception as error:
            error_id = uuid.uuid4().hex
            _log_unexpected(error, error_id, scope)
            if not started:
                problem = Problem(
                    500,
                    f"An unexpected error occurred; quote error id {error_id} when reporting it.",
                    code="internal-error",
                    error_id=error_id,
                )
                await problem_response(problem)(scope, receive, send)

    def _refusal(self, scope: Scope) -> Problem | None:
        """A request refused before any route sees it: too large, or control characters."""
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_large = int(length) > self.max_body_bytes
            except ValueError:
                return Problem(400, "Content-Length is not a number.", code="bad-request")
            if too_large:
                return self._too_large()
        query = unquote_plus(bytes(scope.get("query_string") or b"").decode("latin-1"))
        for part, text in (("path", str(scope.get("path", ""))), ("query", query)):
            if refused_character(text) is not None:
                return Problem(
                    422,
                    f"The {part} holds a control character.",
                    code="invalid-request",
                    title="Invalid request",
                )
        return None

    def _too_large(self) -> Problem:
        return Problem(
            413,
            f"The request body is larger than {self.max_body_bytes} bytes.",
            code=BodyTooLarge.problem_code,
        )

    def _limited(self, receive: Receive) -> Receive:
        """`receive` that counts body bytes and stops at the limit (chunked bodies too)."""
        received = 0
        limit = self.max_body_bytes

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        return receive_limited


def _log_unexpected(error: Exception, error_id: str, scope: Scope) -> None:
    """The error's type and frames with the id; its message and the request stay out."""
    route = scope.get("route")
    frames = traceback.extract_tb(error.__traceback__)[-LOGGED_FRAMES:]
    log.error(
        "unexpected_error",
        error_id=error_id,
        error_type=f"{type(error).__module__}.{type(error).__qualname__}",
        method=scope.get("method"),
        route=getattr(route, "path", None),
        where=[f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames],
    )
