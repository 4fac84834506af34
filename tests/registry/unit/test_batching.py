"""Group commit's batcher: requests that arrive during a batch form the next batch."""

import asyncio

import pytest

from botram_registry.batching import Batcher


async def test_requests_arriving_during_a_batch_form_the_next_batch() -> None:
    batches: list[list[int]] = []
    release = asyncio.Event()

    async def process(items: list[int]) -> list[int]:
        batches.append(items)
        if len(batches) == 1:
            await release.wait()  # the first batch is slow: the rest queue up meanwhile
        return [item * 10 for item in items]

    batcher: Batcher[int, int] = Batcher(process, max_size=8)
    await batcher.start()
    first = asyncio.create_task(batcher.submit(0))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(batcher.submit(n)) for n in range(1, 12)]
    await asyncio.sleep(0.01)
    release.set()
    results = await asyncio.gather(first, *rest)
    await batcher.stop()

    assert results == [n * 10 for n in range(12)]
    assert batches == [[0], list(range(1, 9)), list(range(9, 12))]


async def test_a_failed_batch_fails_its_own_requests_only() -> None:
    async def process(items: list[int]) -> list[int]:
        if 13 in items:
            raise RuntimeError("bad batch")
        return items

    batcher: Batcher[int, int] = Batcher(process, max_size=1)
    await batcher.start()
    good, bad = await asyncio.gather(batcher.submit(1), batcher.submit(13), return_exceptions=True)
    await batcher.stop()

    assert good == 1
    assert isinstance(bad, RuntimeError)
    with pytest.raises(RuntimeError):
        await batcher.submit(13)  # stopped: processed inline, the error reaches the caller
