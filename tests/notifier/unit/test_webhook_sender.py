"""A webhook attempt that fails before anything is sent is a failed attempt, never a crash:
the worker records it and backs off (the issue's crash loop: 353 attempts in 3 s)."""

import pytest

from botram_notifier.adapters.webhook_sender import WebhookSender
from botram_notifier.domain.deliveries import AttemptOutcome, classify


@pytest.mark.parametrize(
    "url", ["http://a..b/hook", "http://" + "a" * 64 + ".example/hook", "http://[::1/hook"]
)
async def test_a_url_that_cannot_be_sent_to_is_a_failed_attempt(url: str) -> None:
    sender = WebhookSender(timeout=1, ssrf_guard=False)
    try:
        result = await sender.post(url, b"{}", {})
    finally:
        await sender.close()

    assert result.status_code is None and result.error
    # No answer is retried on the schedule, like a network error: recorded, backed off.
    assert classify(result.status_code) is AttemptOutcome.RETRY
