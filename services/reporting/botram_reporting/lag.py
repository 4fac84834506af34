"""Reporting's consumer lag, asked of JetStream periodically for the `/metrics` gauge.

Apart from `metrics.py`, which the rebuild command imports too: this needs the service
runtime (FastStream, the web server), which a rebuild has no use for.
"""

from contextlib import suppress

from botram_reporting.metrics import Aggregates
from botram_runtime.bus import jetstream_of
from botram_runtime.service import Hook, ServiceRuntime
from botram_runtime.stream import STREAM_NAME


def consumer_lag_probe(runtime: ServiceRuntime, aggregates: Aggregates, durable: str) -> Hook:
    """A periodic job: ask JetStream how many messages `durable` has not processed yet."""

    async def probe() -> None:
        if not runtime.bus_started:
            return  # nothing to ask before the bus is connected
        with suppress(Exception):  # the bus may be reconnecting: keep the last value
            info = await jetstream_of(runtime.broker).consumer_info(STREAM_NAME, durable)
            aggregates.consumer_lag[durable] = info.num_pending + (info.num_ack_pending or 0)

    return probe
