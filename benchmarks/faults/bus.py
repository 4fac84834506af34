"""Large runs of the fault suite (tests/faults runs small ones): check-ins through the
registry at a steady rate while NATS or the services are killed, then every acknowledged
check-in must be in the stream once and counted once by reporting.

    .venv/bin/python -m benchmarks.faults.bus nats-kill [--total 5000] [--rate 100] [--outage 5]
    .venv/bin/python -m benchmarks.faults.bus service-kills [--total 5000] [--kills 8]
"""

import argparse
import asyncio
import os
import random
import signal
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from benchmarks.checkin import SERVICES, SESSION, announce_session, check_in_body, wait_session_open
from benchmarks.common import Process, nats_server, report, start_service, wait_ready
from benchmarks.freshness import checkins_counted
from botram_cli.nats_server import EmbeddedNatsServer
from botram_cli.tokens import ensure_key_pair, mint_token
from botram_runtime.actors import Role

Fault = Callable[[int], Awaitable[None]]


async def checked_in(
    url: str, total: int, rate: float, headers: dict[str, str], fault: Fault
) -> int:
    """Check-ins at `rate`/s; one unanswered (the registry is down) is sent again. Retries."""
    retries = 0
    async with httpx.AsyncClient(headers=headers, timeout=10) as client:
        started = time.monotonic()
        for index in range(total):
            await fault(index)
            while True:
                try:
                    response = await client.post(
                        f"{url}/v1/sessions/{SESSION}/check-ins", json=check_in_body(index)
                    )
                    if response.status_code in (200, 201):
                        break
                except httpx.HTTPError:
                    pass
                retries += 1
                await asyncio.sleep(0.2)
            pause = started + (index + 1) / rate - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
    return retries


async def settle(registry: Process, reporting: Process, total: int) -> tuple[int, int, float]:
    """Wait (at most 5 minutes) until reporting counted `total`; (stored, counted, seconds)."""
    started = time.monotonic()
    counted = 0
    async with httpx.AsyncClient() as client:
        while time.monotonic() - started < 300:
            counted = checkins_counted((await client.get(f"{reporting.url}/metrics")).text)
            if counted >= total:
                break
            await asyncio.sleep(0.5)
        text = (await client.get(f"{registry.url}/metrics")).text
    published = sum(
        float(line.split()[1])
        for line in text.splitlines()
        if line.startswith("botram_outbox_published_total ")
    )
    return int(published), counted, time.monotonic() - started


def restart(process: Process, tmp: Path) -> Process:
    """kill -9, then the same command again on the same port."""
    os.kill(process.popen.pid, signal.SIGKILL)
    process.popen.wait(timeout=10)
    with process.log.open("ab") as log:
        popen = subprocess.Popen(
            process.popen.args,
            env=process_env[process.name],
            cwd=tmp,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    fresh = Process(process.name, popen, process.url, process.log)
    wait_ready(fresh)
    return fresh


process_env: dict[str, dict[str, str]] = {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenario", choices=["nats-kill", "service-kills"])
    parser.add_argument("--total", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--outage", type=float, default=5.0, help="seconds NATS stays down")
    parser.add_argument("--kills", type=int, default=8, help="service kills (service-kills)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        auth = tmp / "var" / "auth"
        ensure_key_pair(auth)
        headers = {"Authorization": f"Bearer {mint_token([Role.FRONT_DESK], directory=auth)}"}
        with nats_server(tmp) as server:
            run(args, tmp, server, headers)


def run(
    args: argparse.Namespace, tmp: Path, server: EmbeddedNatsServer, headers: dict[str, str]
) -> None:
    db = {name: f"sqlite+aiosqlite:///{tmp / name}.db" for name in ("registry", "reporting")}
    services = {name: start_service(name, tmp, server.url, db[name]) for name in db}
    for name, process in services.items():
        process_env[name] = os.environ | {
            "BOTRAM_NATS_URL": server.url,
            "BOTRAM_DATABASE_URL": db[name],
            "BOTRAM_HTTP_PORT": process.url.rsplit(":", 1)[1],
            "BOTRAM_LOG_LEVEL": "WARNING",
        }
    chance = random.Random(14)
    kills = {chance.randrange(args.total): name for name in list(db) * (args.kills // 2)}
    killed_at = 0.0

    async def fault(index: int) -> None:
        nonlocal killed_at
        if args.scenario == "nats-kill":
            if index == args.total // 3:
                server.kill()
                killed_at = time.monotonic()
            elif killed_at and time.monotonic() - killed_at >= args.outage:
                server.restart()
                killed_at = 0.0
        elif index in kills:
            name = kills[index]
            services[name] = await asyncio.to_thread(restart, services[name], tmp)

    try:
        asyncio.run(announce_session(server.url))
        asyncio.run(wait_session_open(services["registry"].url))
        started = time.monotonic()
        retries = asyncio.run(
            checked_in(services["registry"].url, args.total, args.rate, headers, fault)
        )
        if killed_at:
            server.restart()
        load_seconds = time.monotonic() - started
        published, counted, drain = asyncio.run(
            settle(services["registry"], services["reporting"], args.total)
        )
    finally:
        for process in services.values():
            process.stop()
    lost = args.total - counted
    duplicated = max(counted - args.total, 0)
    print(f"{args.total} events, {lost} lost, {duplicated} duplicated")
    report(
        f"faults: {args.scenario}",
        [
            ("check-ins answered", str(args.total)),
            ("check-ins retried (registry down)", str(retries)),
            ("counted by reporting", str(counted)),
            ("lost / duplicated", f"{lost} / {duplicated}"),
            ("load (s)", f"{load_seconds:.1f}"),
            ("drain after the load (s)", f"{drain:.1f}"),
        ],
        {
            "scenario": args.scenario,
            "total": args.total,
            "counted": counted,
            "published_last_registry_run": published,
            "lost": lost,
            "duplicated": duplicated,
            "retries": retries,
            "services": SERVICES,
        },
    )


if __name__ == "__main__":
    main()
