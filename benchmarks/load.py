"""HTTP load: a closed loop of concurrent clients, and an open loop at a fixed rate."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return (self.requests - self.errors) / self.seconds


Body = Callable[[int], dict[str, object]]


async def closed_loop(
    url: str, body: Body, total: int, concurrency: int, headers: dict[str, str] | None = None
) -> LoadResult:
    """`concurrency` clients, each sending its next request as soon as the last answered."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as client:

        async def worker() -> None:
            nonlocal errors
            for index in counter:  # shared iterator: `total` requests in all
                started = time.perf_counter()
                response = await client.post(url, json=body(index))
                latencies.append((time.perf_counter() - started) * 1000)
                errors += response.status_code >= 300

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return LoadResult(total, errors, elapsed, latencies)


async def open_loop(
    url: str,
    body: Body,
    rate: float,
    seconds: float,
    offset: int = 0,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """Requests sent at a fixed rate whatever the answers; latency from the planned send time."""
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as client:

        async def one(index: int, planned: float) -> None:
            nonlocal errors
            await asyncio.sleep(max(0.0, planned - time.perf_counter()))
            response = await client.post(url, json=body(offset + index))
            latencies.append((time.perf_counter() - planned) * 1000)
            errors += response.status_code >= 300

        started = time.perf_counter() + 0.2
        await asyncio.gather(*(one(i, started + i / rate) for i in range(total)))
        elapsed = time.perf_counter() - started
    return LoadResult(total, errors, elapsed, latencies)


def nik(index: int) -> str:
    """A distinct valid NIK per index (birth date and serial vary)."""
    serial = index % 9999 + 1
    day = (index // 9999) % 28 + 1
    month = (index // (9999 * 28)) % 12 + 1
    return f"321605{day:02d}{month:02d}90{serial:04d}"
