"""An agency's durable NATS consumer of Botram events (docs/agencies.md, "Direct NATS access").

    pip install nats-py nkeys
    BOTRAM_AGENCY=bpjs-kesehatan BOTRAM_AGENCY_SEED=SU... \
        BOTRAM_NATS_URL=nats://127.0.0.1:4222 python examples/agency/nats_consumer.py

It fetches from the three consumers Botram created for the agency (`<agency>-tickets`,
`<agency>-services`, `<agency>-sessions`), prints each event as one JSON line and acks it
once handled. Idle periods are normal: a fetch that finds nothing ends in a timeout, which
nats-py raises as `nats.errors.TimeoutError` or as a bare `asyncio.TimeoutError`; both are
caught. CI runs this file against the real system (tests/notifier/integration/
test_agency_examples.py), a minute of idling included.
"""

import asyncio
import json
import os
import signal

import nats
import nats.errors
from nats.js import JetStreamContext

AGENCY = os.environ.get("BOTRAM_AGENCY", "bpjs-kesehatan")
CONSUMERS = (f"{AGENCY}-tickets", f"{AGENCY}-services", f"{AGENCY}-sessions")
# Fetch timeouts: nats-py raises either (asyncio.TimeoutError is TimeoutError on 3.11+).
IDLE = (nats.errors.TimeoutError, asyncio.TimeoutError)


async def handle(event: dict[str, object]) -> None:
    """Store the event; be idempotent: JetStream redelivers until acked, so key by event["id"]."""
    print(json.dumps({"source": "nats", "id": event["id"], "type": event["type"]}), flush=True)


async def consume(js: JetStreamContext, durable: str, stopping: asyncio.Event) -> None:
    # Bind to the consumer Botram created for you (creating one is not allowed).
    subscription = await js.pull_subscribe_bind(durable, stream="BOTRAM")
    while not stopping.is_set():
        try:
            messages = await subscription.fetch(100, timeout=5)
        except IDLE:
            continue  # nothing new within 5 s: ask again
        for message in messages:
            await handle(json.loads(message.data))
            await message.ack()  # only after the event is safely stored


async def main() -> None:
    async def on_error(error: Exception) -> None:
        print("nats error:", repr(error), flush=True)  # e.g. a Permissions Violation

    nc = await nats.connect(
        os.environ.get("BOTRAM_NATS_URL", "nats://127.0.0.1:4222"),
        nkeys_seed_str=os.environ["BOTRAM_AGENCY_SEED"],  # the SU... seed you were given
        inbox_prefix=f"_INBOX_{AGENCY}",  # required by your permissions
        error_cb=on_error,
        max_reconnect_attempts=-1,
    )
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
    js = nc.jetstream()
    print(json.dumps({"ready": CONSUMERS}), flush=True)
    try:
        await asyncio.gather(*(consume(js, durable, stopping) for durable in CONSUMERS))
    finally:
        await nc.close()  # acks are already sent: nothing to drain


if __name__ == "__main__":
    asyncio.run(main())
