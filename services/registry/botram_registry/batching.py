"""Group commit: requests that arrive while one batch is being stored form the next batch.

A lone request is processed at once (no added latency); under load, the requests that queued
up meanwhile share one transaction, so the per-transaction cost (begin, commit, the session
lookup, one statement per table) is paid once per batch instead of once per request.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from botram_runtime.consumers import stop_task

STOP_GRACE_SECONDS = 5.0
Item = TypeVar("Item")
Result = TypeVar("Result")


class Batcher(Generic[Item, Result]):
    """Feeds submitted items to `process` in batches of up to `max_size`, in arrival order.

    `process` returns one result per item. If it raises, every item of that batch gets the
    error. Until `start()` (and after `stop()`) items are processed one at a time, inline.
    """

    def __init__(
        self, process: Callable[[list[Item]], Awaitable[list[Result]]], *, max_size: int
    ) -> None:
        self._process = process
        self._max_size = max_size
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="group-commit")

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Store what is queued, then stop; bounded by `grace` (its callers then see a
        cancelled request, as when they go away)."""
        task, self._task = self._task, None
        self._stopping = True
        self._wake.set()
        await stop_task(task, grace)
        for _, future in self._pending:  # their callers see a cancelled request
            future.cancel()
        self._pending.clear()

    async def submit(self, item: Item) -> Result:
        if self._task is None:
            [result] = await self._process([item])
            return result
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._wake.set()
        return await future

    async def _run(self) -> None:
        while not self._stopping or self._pending:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[: self._max_size]
                del self._pending[: self._max_size]
                await self._settle(batch)

    async def _settle(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._process([item for item, _ in batch])
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # a caller that went away (client disconnected) is skipped
                future.set_result(result)
