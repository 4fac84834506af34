"""One way to fail: a use case raises a `DomainError`; the runtime renders it as problem+json.

Use cases and domain rules know nothing of HTTP, but each failure they can report has a
stable `code` (the last part of the problem `type`), a `detail` a desk officer understands,
and the HTTP `status` an API would answer with. Routes never catch them: the handler that
`ServiceRuntime.create_app` installs turns any `DomainError` into RFC 9457 problem+json.
"""

from typing import Any, ClassVar


class DomainError(Exception):
    """A failure a caller can act on: `code` is stable, `detail` is for people."""

    status: ClassVar[int] = 422
    default_code: ClassVar[str] = "invalid-request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        if status is not None:
            self.status = status  # type: ignore[misc]  # per-instance override of the class default
        self.extensions = extensions


class Invalid(DomainError):
    """The request can never succeed as sent (422)."""


class NotFound(DomainError):
    """The thing asked for does not exist, or is not the caller's to see (404)."""

    status = 404
    default_code = "not-found"

    def __init__(self, what: str, ident: str, *, code: str | None = None) -> None:
        super().__init__(f"{what} {ident} does not exist", code=code or f"{what}-not-found")


class Conflict(DomainError):
    """The request clashes with the current state (409): e.g. a ticket not in that state."""

    status = 409
    default_code = "conflict"


class Forbidden(DomainError):
    """The caller is known but may not do this (403)."""

    status = 403
    default_code = "forbidden"
