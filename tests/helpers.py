"""Helpers for tests: a controllable clock, bounded polling, token issuers, services over HTTP."""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as Time
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
import uvicorn
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey
from nats.aio.client import Client as NatsClient

from botram_cli.nats_server import nats_server_binary
from botram_cli.tokens import SIGNING_KEY_FILE, ensure_key_pair, mint_token, sign_in_link
from botram_contracts.events import (
    MSG_ID_HEADER,
    BotramEvent,
    CloudEvent,
    SessionOpenedV1,
    SessionScheduledV1,
    decode_event,
    encode_event,
    make_event,
)
from botram_runtime.access import api_routes, rule_of
from botram_runtime.actors import Role
from botram_runtime.bus_access import (
    OPS_INBOX_PREFIX,
    OPS_USER,
    SERVICES,
    consumer_of,
    key_variable,
    new_user_seed,
    public_key,
    service_inbox_prefix,
)
from botram_runtime.clock import local_today, system_clock
from botram_runtime.settings import EMBEDDED_ISSUER


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def eventually(
    predicate: Callable[[], Any | Awaitable[Any]], within: float = 10.0, interval: float = 0.05
) -> Any:
    """Poll an async or sync predicate until it returns a truthy value (bounded in time)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(interval)


async def consumed(nc: NatsClient, service: str, *durables: str) -> None:
    """Every event published so far has been handled by these consumers of `service` (a
    consumer not created yet counts as not done)."""

    async def done() -> bool:
        for durable in durables:
            try:
                info = await nc.jetstream().consumer_info(
                    consumer_of(service, durable).stream, durable
                )
            except nats.js.errors.NotFoundError:
                return False
            if info.num_pending or info.num_ack_pending:
                return False
        return True

    await eventually(done)


async def bounded(operation: Awaitable[Any], within: float, what: str) -> Any:
    """Await `operation` for at most `within` seconds; past that, fail naming every task
    still running, with its stack (a hang names its task instead of stalling the suite)."""
    task = asyncio.ensure_future(operation)
    done, _ = await asyncio.wait({task}, timeout=within)
    if not done:
        task.cancel()
        pytest.fail(f"{what} took over {within}s; tasks:\n{dump_tasks()}")
    return task.result()


def dump_tasks() -> str:
    """Every asyncio task of the running loop and where it waits."""
    lines = []
    for task in asyncio.all_tasks():
        frames = task.get_stack(limit=8)
        where = " <- ".join(f"{f.f_code.co_name}:{f.f_lineno}" for f in frames) or "-"
        lines.append(f"  {task.get_name()}: {where}")
    return "\n".join(sorted(lines))


# The roles of the default client of `running()`: an organiser's staff, not a desk or an agency
# (those are confined to one agency: tests pass their own headers for them).
STAFF_ROLES = ("planner", "operator", "front-desk", "viewer")


@asynccontextmanager
async def running(
    app: FastAPI, headers: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """Run a service app's lifespan (migrations, bus) and talk to it over ASGI.

    The client sends a staff token of the test session's issuer unless `headers` say otherwise.
    """
    async with app.router.lifespan_context(app):
        await eventually(lambda: app.state.runtime.consuming, within=15)
        transport = httpx.ASGITransport(app=app)
        default = session_issuer().headers(*STAFF_ROLES) if headers is None else headers
        async with httpx.AsyncClient(
            transport=transport, base_url="http://service", headers=default
        ) as client:
            yield client


async def publish_event(nc: NatsClient, data: BotramEvent, service: str) -> CloudEvent[Any]:
    """Publish an event to the stream as its owning service's outbox relay would."""
    event = make_event(data, service)
    await nc.jetstream().publish(
        event.subject, encode_event(event), headers={MSG_ID_HEADER: str(event.id)}
    )
    return event


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    """The response is RFC 9457 problem+json with this status (and problem type)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if code is not None:
        assert body["type"].endswith("/" + code), body
    return body


async def fetch_events(
    nc: NatsClient, subject: str, count: int, within: float = 10.0
) -> list[CloudEvent[Any]]:
    """The first `count` events on `subject` in the stream, waiting for late publishes."""
    subscription = await nc.jetstream().pull_subscribe(subject)
    messages: list[Any] = []
    deadline = asyncio.get_running_loop().time() + within
    while len(messages) < count and asyncio.get_running_loop().time() < deadline:
        try:
            messages += await subscription.fetch(count - len(messages), timeout=0.5)
        except TimeoutError:
            continue
    await subscription.unsubscribe()
    assert len(messages) == count, f"{len(messages)} of {count} events on {subject}"
    return [decode_event(m.data) for m in messages]


@dataclass
class System:
    """The whole system started by `botram up` in a test."""

    process: subprocess.Popen[str]
    nats_url: str
    urls: dict[str, str]
    output: list[str]
    var_dir: Path

    def nats_seed(self, user: str = "ops") -> str:
        """A NATS user's nkey seed, as `botram up` generated it under ./var/nats/users/."""
        return (self.var_dir / "nats" / "users" / f"{user}.nk").read_text().strip()

    def headers(self, *roles: str, agency: str | None = None) -> dict[str, str]:
        """A bearer token of this system's embedded issuer (as `botram token` prints)."""
        token = mint_token(
            [Role(role) for role in roles], agency=agency, directory=self.var_dir / "auth"
        )
        return {"Authorization": f"Bearer {token}"}


def cli(*args: str) -> list[str]:
    """The `botram` command, run with this interpreter."""
    return [sys.executable, "-m", "botram_cli.main", *args]


def promtool(*args: str, stdin: str | None = None) -> "subprocess.CompletedProcess[str]":
    """Run promtool (Debian package `prometheus`; `.ci/run` installs it).

    Missing in CI is a failure; on a developer's machine without it the test is skipped
    with the install command as the reason.
    """
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: apt-get install prometheus")
        pytest.skip("promtool is not installed here: apt-get install prometheus")
    return subprocess.run(
        [found, *args], input=stdin, capture_output=True, text=True, check=False, timeout=60
    )


_SESSION_ISSUER: list["TestIssuer"] = []


def session_issuer() -> "TestIssuer":
    """The identity provider every service in this test session trusts (tests/conftest.py)."""
    assert _SESSION_ISSUER, "the session's TestIssuer is set up by tests/conftest.py"
    return _SESSION_ISSUER[0]


class TestIssuer:
    """An identity provider for tests: a key pair on disk and tokens signed with it."""

    __test__ = False  # not a test class, despite its name

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.jwks_file = ensure_key_pair(directory)

    def token(
        self,
        *roles: str,
        agency: str | None = None,
        services: list[str] | None = None,
        ttl_seconds: int = 3600,
        subject: str | None = None,
    ) -> str:
        return mint_token(
            [Role(role) for role in roles],
            agency=agency,
            services=services,
            ttl_seconds=ttl_seconds,
            subject=subject,
            directory=self.directory,
        )

    def headers(self, *roles: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(*roles, **claims)}"}

    def make_session_issuer(self) -> None:
        _SESSION_ISSUER[:] = [self]

    def forged_tokens(self, *roles: str, agency: str | None = None) -> dict[str, str]:
        """Tokens claiming `roles` that a service trusting this issuer must refuse (401).

        Each names what is wrong with it: signed by another key under the trusted key's
        `kid`, `alg: none`, HMAC with the public key as secret, expired, meant for another
        audience or issuer, and a `kid` the issuer never had.
        """
        trusted = ECKey.import_key(json.loads((self.directory / SIGNING_KEY_FILE).read_text()))
        kid = str(trusted.kid)
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": EMBEDDED_ISSUER,
            "aud": "botram",
            "sub": "forger",
            "iat": now,
            "exp": now + 600,
            "jti": str(uuid.uuid4()),
            "roles": list(roles),
        } | ({"agency": agency} if agency else {})

        def signed(key: ECKey, body: dict[str, Any], key_id: str = kid) -> str:
            header = {"alg": "ES256", "typ": "at+jwt", "kid": key_id}
            return jwt.encode(header, body, key, algorithms=["ES256"])

        stranger = ECKey.generate_key("P-256", parameters={"kid": kid})
        unsigned = f"{_b64({'alg': 'none', 'kid': kid})}.{_b64(claims)}."
        hmac_input = f"{_b64({'alg': 'HS256', 'kid': kid})}.{_b64(claims)}"
        public_pem = trusted.as_pem(private=False)
        mac = hmac.new(public_pem, hmac_input.encode(), hashlib.sha256).digest()
        return {
            "another key": signed(stranger, claims),
            "alg none": unsigned,
            "hmac with the public key": f"{hmac_input}.{_b64(mac)}",
            "expired": signed(trusted, claims | {"iat": now - 900, "exp": now - 300}),
            "wrong audience": signed(trusted, claims | {"aud": "another-api"}),
            "wrong issuer": signed(trusted, claims | {"iss": "https://evil.example"}),
            "unknown kid": signed(
                ECKey.generate_key("P-256", parameters={"kid": "unknown"}), claims, "unknown"
            ),
        }


def _b64(value: dict[str, Any] | bytes) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


ALL_ROLES = ("planner", "operator", "front-desk", "desk", "agency", "viewer")
PUBLIC = "public"
# Path parameters for the role matrix: ids that exist nowhere (an allowed role gets 404/422,
# which proves it passed the access check; a refused one gets 401/403 first).
MATRIX_PATH_VALUES = {
    "service": "ktp-el",
    "number": "KTP-001",
    "agency": "dukcapil",
    "code": "0000000000000000",
}


def route_table(app: FastAPI) -> set[tuple[str, str]]:
    """(METHOD, path) of every API route of an app (HEAD left out)."""
    return {(method, path) for method, path, _ in api_routes(app)}


async def assert_access_matrix(
    client: httpx.AsyncClient,
    app: FastAPI,
    expected: dict[tuple[str, str], str | set[str]],
    *,
    agency: str = "dukcapil",
) -> None:
    """Every route answers each role, and no token, as `expected` says.

    `expected` maps (METHOD, path) to `PUBLIC` or the set of roles admitted. The table must
    list exactly the app's routes, so a new route without a rule fails the test. For each
    route: no token -> 401 (or not 401 when public); a role outside the set -> 403; a role in
    the set -> neither 401 nor 403 (2xx, or 404/422 for the made-up ids and empty bodies).
    """

    assert route_table(app) == set(expected), "the role matrix must list every route"
    issuer = session_issuer()
    tokens = {
        role: issuer.headers(role, agency=agency)
        if role in ("desk", "agency")
        else issuer.headers(role)
        for role in ALL_ROLES
    }
    rules = {(method, path): rule_of(route) for method, path, route in api_routes(app)}
    for (method, path), admitted in sorted(expected.items()):
        rule = rules[(method, path)]
        assert rule is not None, f"{method} {path} declares no access rule"
        if admitted == PUBLIC:
            assert rule.public, f"{method} {path} should be public"
        else:
            assert not rule.public and {r.value for r in rule.roles} == admitted, (
                f"{method} {path}: declared {rule.describe()}, expected {sorted(admitted)}"
            )
        url = path
        for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
            url = url.replace(f"{{{name}}}", MATRIX_PATH_VALUES.get(name, str(uuid.uuid4())))
        body = {} if method in ("POST", "PUT", "PATCH") else None
        anonymous = await client.request(method, url, json=body, headers={"Authorization": ""})
        if admitted == PUBLIC:
            assert anonymous.status_code not in (401, 403), f"{method} {path}: {anonymous.text}"
            continue
        assert anonymous.status_code == 401, f"{method} {path} without a token"
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        for role in ALL_ROLES:
            answer = await client.request(method, url, json=body, headers=tokens[role])
            if role in admitted:
                assert answer.status_code not in (401, 403), (
                    f"{role} {method} {path}: {answer.text}"
                )
            else:
                assert answer.status_code == 403, f"{role} {method} {path}: {answer.text}"


# --- a service over real HTTP (browser tests, CLI tests) -------------------------------------

START_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LiveService:
    """One service app served over HTTP by uvicorn in a background thread."""

    name: str
    app: FastAPI
    port: int
    server: uvicorn.Server = field(init=False)
    thread: threading.Thread = field(init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            log_config=None,
            lifespan="on",
            # As `botram_runtime.serve` (10 s there): open streams (a display's Server-Sent
            # Events) are cut after this, so a stop does not wait for the browser to leave.
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve()), name=f"live-{self.name}", daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not (self.server.started and self._consuming()):
            if not self.thread.is_alive():
                raise RuntimeError(f"{self.name} stopped while starting")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} not ready within {START_TIMEOUT_SECONDS}s")
            time.sleep(0.05)

    def _consuming(self) -> bool:
        """A Botram service is ready once its consumers are bound; any other app once it
        listens."""
        runtime = getattr(self.app.state, "runtime", None)
        return runtime is None or bool(runtime.consuming)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=STOP_TIMEOUT_SECONDS)
        if self.thread.is_alive():
            raise RuntimeError(f"{self.name} did not stop within {STOP_TIMEOUT_SECONDS}s")

    def link(self, path: str, *roles: str, **claims: Any) -> str:
        """A sign-in link to a page of this service (as `botram token --link` prints)."""
        return sign_in_link(self.url + path, session_issuer().token(*roles, **claims))

    def headers(self, *roles: str, **claims: Any) -> dict[str, str]:
        return session_issuer().headers(*roles, **claims)


SHIPPED_NATS_CONF = Path(__file__).resolve().parents[1] / "deploy" / "nats" / "nats.conf"


def render_shipped_nats_conf(text: str, directory: Path, port: int, monitor_port: int) -> str:
    """The shipped nats.conf with only its listen addresses and store moved for a test."""
    for old, new in (
        ("listen: 0.0.0.0:4222", f"listen: 127.0.0.1:{port}"),
        ("http: 0.0.0.0:8222", f"http: 127.0.0.1:{monitor_port}"),
        ('store_dir: "/data/jetstream"', f'store_dir: "{directory / "jetstream"}"'),
    ):
        assert text.count(old) == 1, f"the shipped config no longer has {old!r} once"
        text = text.replace(old, new)
    return text


class SealedNats:
    """A nats-server running the shipped deploy/nats/nats.conf: nobody connects anonymously.

    The services' and the operator's public nkeys come from the environment, as in compose;
    their seeds are made up for the test. Ended by PID, with bounded waits.
    """

    def __init__(self, directory: Path, tls: dict[str, str] | None = None) -> None:
        self.directory = directory
        self.port, self.monitor_port = free_port(), free_port()
        self.config = directory / "nats.conf"
        self.config.write_text(
            render_shipped_nats_conf(
                SHIPPED_NATS_CONF.read_text(), directory, self.port, self.monitor_port
            )
        )
        if tls is not None:
            # The shipped TLS example, which includes nats.conf: only its file paths (and
            # `verify`, when a test asks for client certificates) are changed.
            text = (SHIPPED_NATS_CONF.parent / "nats-tls.conf").read_text()
            for old, new in tls.items():
                assert text.count(old) == 1, f"the TLS example no longer has {old!r} once"
                text = text.replace(old, new)
            self.config = directory / "nats-tls.conf"
            self.config.write_text(text)
        shutil.copy(SHIPPED_NATS_CONF.parent / "agencies.json", directory / "agencies.json")
        self.seeds = {user: new_user_seed().decode() for user in (*SERVICES, OPS_USER)}
        self.log_file = directory / "nats-server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        keys = {key_variable(user): public_key(seed.encode()) for user, seed in self.seeds.items()}
        return {**os.environ, **keys}

    def start(self) -> "SealedNats":
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(
                [nats_server_binary(), "-c", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environment(),
            )
        deadline = time.monotonic() + 15
        while "Server is ready" not in self.log():
            assert self.process.poll() is None, f"nats-server refused the config:\n{self.log()}"
            assert time.monotonic() < deadline, f"nats-server not ready:\n{self.log()}"
            time.sleep(0.05)
        return self

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def reload(self) -> None:
        """Apply a changed config, as an operator does (`nats-server --signal reload`)."""
        assert self.process is not None
        reloads = self.log().count("Reloaded server configuration")
        self.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 15
        while self.log().count("Reloaded server configuration") == reloads:
            assert time.monotonic() < deadline, f"no reload:\n{self.log()[-3000:]}"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    async def connect(self, user: str, errors: list[str] | None = None) -> NatsClient:
        """A client as one of the Botram users, on that user's own inbox prefix."""

        async def on_error(error: Exception) -> None:
            if errors is not None:
                errors.append(str(error))

        prefix = OPS_INBOX_PREFIX if user == OPS_USER else service_inbox_prefix(user)
        return await nats.connect(
            self.url,
            nkeys_seed_str=self.seeds[user],
            inbox_prefix=prefix,
            error_cb=on_error,
            allow_reconnect=False,
        )


def agency_credentials(sealed_nats: SealedNats, *args: str) -> "subprocess.CompletedProcess[str]":
    """The shipped command, run as the operator runs it: connected as the `ops` user."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOTRAM_")}
    env |= {"BOTRAM_NATS_URL": sealed_nats.url, "BOTRAM_NATS_NKEY_SEED": sealed_nats.seeds["ops"]}
    command = [sys.executable, "-m", "botram_notifier", "agency-credentials", *args]
    return subprocess.run(
        [*command, "--dir", str(sealed_nats.directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def issue_credentials(agency: str, sealed_nats: SealedNats) -> str:
    """Issue an agency's credentials; the command prints the seed on stdout."""
    result = agency_credentials(sealed_nats, agency)
    assert result.returncode == 0, result.stderr
    seed = result.stdout.strip()
    assert seed.startswith("SU"), result.stderr
    # It names the files it wrote (the registry of keys, the config's accounts block).
    for written in ("agencies.json", "nats.conf"):
        assert str(sealed_nats.directory / written) in result.stderr, result.stderr
    return seed


async def permission_violations(errors: list[str], count: int = 1) -> list[str]:
    """The permission violations a client was told of, waiting (bounded) for `count` of them."""
    for _ in range(100):
        found = [e for e in errors if "permissions violation" in e.lower()]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    return [e for e in errors if "permissions violation" in e.lower()]


# The fault suite (tests/faults): services as processes, a session to check citizens into.
FAULTS_SESSION = "faults-session"
FAULTS_SERVICES = ["dukcapil-kk", "bpjs-kesehatan-pendaftaran"]
READY_WITHIN = 90.0


@dataclass
class ServiceProcess:
    """`python -m botram_<name>` on a port of its own, which a test may kill and restart."""

    name: str
    directory: Path
    environment: dict[str, str]
    port: int = field(default_factory=free_port)
    popen: "subprocess.Popen[bytes] | None" = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / f"{self.name}.log"

    def start(self) -> "ServiceProcess":
        environment = self.environment | {"BOTRAM_HTTP_PORT": str(self.port)}
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", f"botram_{self.name}"],
                env=environment,
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait_ready(self, within: float = READY_WITHIN) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.popen is not None and self.popen.poll() is None, self.tail()
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} not ready within {within}s\n{self.tail()}")

    def kill(self) -> None:
        """kill -9: no shutdown at all."""
        assert self.popen is not None
        os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> float:
        """SIGTERM; how long the process took to exit."""
        if self.popen is None or self.popen.poll() is not None:
            return 0.0
        started = time.monotonic()
        self.popen.terminate()
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)
            raise AssertionError(f"{self.name} ignored SIGTERM for {timeout}s") from None
        return time.monotonic() - started

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


async def open_session(nats_url: str, registry: ServiceProcess) -> None:
    """Announce an opened session (as the scheduler would) and wait for the registry."""
    common = {
        "session_id": FAULTS_SESSION,
        "level": "kecamatan",
        "kecamatan": "sukatani",
        "date": local_today(system_clock),
    }
    nc = await nats.connect(nats_url)
    try:
        scheduled = SessionScheduledV1(
            **common, start=Time(0), end=Time(23), services=FAULTS_SERVICES
        )
        await publish_event(nc, scheduled, "scheduler")
        await publish_event(nc, SessionOpenedV1(**common, opened_at=system_clock()), "scheduler")
    finally:
        await nc.close()
    async with httpx.AsyncClient(base_url=registry.url, headers=staff()) as client:
        for _ in range(300):
            response = await client.get(f"/v1/sessions/{FAULTS_SESSION}/queue")
            if response.status_code == 200 and response.json()["status"] == "opened":
                return
            await asyncio.sleep(0.1)
    raise AssertionError("the registry never saw the session open")


def staff() -> dict[str, str]:
    return session_issuer().headers("front-desk", "operator")


def nik(index: int) -> str:
    """A distinct valid NIK per index (birth date and serial vary)."""
    serial = index % 9999 + 1
    day = (index // 9999) % 28 + 1
    month = (index // (9999 * 28)) % 12 + 1
    return f"321605{day:02d}{month:02d}90{serial:04d}"
