"""Sending one webhook: Standard Webhooks signatures and the SSRF guard around the request."""

import asyncio
import base64
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks import Webhook

from botram_notifier.domain.subscriptions import check_addresses
from botram_runtime.errors import DomainError, Invalid

# Structured-mode CloudEvents over HTTP (CloudEvents HTTP binding, 3.1), and who is calling.
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
USER_AGENT = f"Botram-Webhooks/{version('botram-notifier')}"
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # 256-bit HMAC key, as Standard Webhooks recommends (24-64 bytes)


def new_secret() -> str:
    """A fresh `whsec_<base64>` signing secret."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature_headers(
    message_id: str, body: bytes, secrets_in_use: list[str], at: datetime
) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp`, `webhook-signature` (one `v1,` entry per secret)."""
    data = body.decode()
    signatures = [Webhook(secret).sign(message_id, at, data) for secret in secrets_in_use]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


async def resolve_checked(url: str, *, guard: bool) -> str:
    """The IP address to connect to for `url`; with `guard`, refuse internal addresses."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise Invalid(
            f"The webhook host {host!r} does not resolve.", code="unresolvable-url"
        ) from error
    addresses = [str(info[4][0]) for info in infos]
    if guard:
        check_addresses(host, addresses)
    return addresses[0]


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    latency_ms: float
    error: str | None = None
    retry_after: str | None = None


class WebhookSender:
    """POSTs signed CloudEvents; connects to the address it checked, never follows redirects."""

    def __init__(self, *, timeout: float, ssrf_guard: bool) -> None:
        self.ssrf_guard = ssrf_guard
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)

    async def check_url(self, url: str) -> None:
        """With the SSRF guard on, refuse a URL whose host resolves to an internal address."""
        if self.ssrf_guard:
            await resolve_checked(url, guard=True)

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> AttemptResult:
        """One attempt; whatever fails (before or while sending) is a failed attempt, with
        the reason, never an exception: the caller records it and backs off."""
        started = time.perf_counter()
        try:
            address = await resolve_checked(url, guard=self.ssrf_guard)
            parts = urlsplit(url)
            host_ip = f"[{address}]" if ":" in address else address
            netloc = host_ip + (f":{parts.port}" if parts.port else "")
            # The request goes to the checked IP; Host and TLS SNI keep the name, so virtual
            # hosts and certificate checks work as with the name.
            target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
            response = await self._client.post(
                target,
                content=body,
                headers=headers
                | {"content-type": CONTENT_TYPE, "user-agent": USER_AGENT, "host": parts.netloc},
                extensions={"sni_hostname": parts.hostname} if parts.scheme == "https" else {},
            )
        except DomainError as refused:
            return AttemptResult(None, _ms(started), error=refused.detail)
        except httpx.HTTPError as error:
            return AttemptResult(None, _ms(started), error=f"{type(error).__name__}: {error}"[:500])
        except Exception as error:  # e.g. a host name IDNA cannot encode (UnicodeError)
            return AttemptResult(
                None, _ms(started), error=f"the request could not be made ({type(error).__name__})"
            )
        return AttemptResult(
            response.status_code,
            _ms(started),
            error=None if response.is_success else response.text[:200] or None,
            retry_after=response.headers.get("retry-after"),
        )

    async def close(self) -> None:
        await self._client.aclose()


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
