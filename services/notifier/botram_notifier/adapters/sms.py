"""Where citizen messages go: an SMS/WhatsApp HTTP gateway, or the log in development."""

from typing import Protocol

import httpx
import structlog

from botram_notifier.settings import Settings

log = structlog.get_logger(__name__)


class ProviderError(Exception):
    """The provider did not accept the message."""


class MessageProvider(Protocol):
    async def send(self, phone: str, text: str, *, message_id: str, kind: str) -> None: ...

    async def close(self) -> None: ...


class LogProvider:
    """Development: writes the message text to the log, never the phone number."""

    async def send(self, phone: str, text: str, *, message_id: str, kind: str) -> None:
        log.info("citizen_message", message_id=message_id, kind=kind, text=text)

    async def close(self) -> None:
        return None


class HttpGatewayProvider:
    """POSTs `{to, text, id}` with a bearer token to an SMS/WhatsApp gateway."""

    def __init__(self, url: str, token: str | None, *, timeout: float = 10.0) -> None:
        self.url = url
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.AsyncClient(timeout=timeout, headers=headers, trust_env=False)

    async def send(self, phone: str, text: str, *, message_id: str, kind: str) -> None:
        try:
            response = await self._client.post(
                self.url,
                json={"to": phone, "text": text, "id": message_id},
                headers={"idempotency-key": message_id},
            )
        except httpx.HTTPError as error:
            raise ProviderError(type(error).__name__) from error
        if not response.is_success:
            raise ProviderError(f"gateway answered {response.status_code}")

    async def close(self) -> None:
        await self._client.aclose()


def message_provider(settings: Settings) -> MessageProvider:
    """The provider the settings name: the HTTP gateway, or the log (development)."""
    if settings.sms_provider == "http":
        if not settings.sms_gateway_url:
            raise ValueError("BOTRAM_SMS_GATEWAY_URL is required when BOTRAM_SMS_PROVIDER=http")
        token = (
            settings.sms_gateway_token.get_secret_value() if settings.sms_gateway_token else None
        )
        return HttpGatewayProvider(settings.sms_gateway_url, token)
    return LogProvider()
