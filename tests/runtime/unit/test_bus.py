"""The bus adapter: every pull timeout reaches FastStream as the error it handles."""

import nats.errors
import pytest

from botram_runtime import bus


async def test_a_bare_asyncio_timeout_from_fetch_becomes_nats_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def fetch_that_times_out_bare(self: object, *args: object, **kwargs: object) -> list:
        raise TimeoutError  # what nats-py 2.16 can raise between its two requests

    monkeypatch.setattr(bus.PullSubscription, "fetch", fetch_that_times_out_bare)
    bus._normalise_fetch_timeouts()

    with pytest.raises(nats.errors.TimeoutError):
        await bus.PullSubscription.fetch(object(), 10, timeout=0.1)  # type: ignore[arg-type]


async def test_normalising_twice_wraps_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bus.PullSubscription, "fetch", bus.PullSubscription.fetch)
    bus._normalise_fetch_timeouts()
    wrapped = bus.PullSubscription.fetch

    bus._normalise_fetch_timeouts()

    assert bus.PullSubscription.fetch is wrapped
