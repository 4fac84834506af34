"""`botram nats-keys`: the Botram users' nkeys for a NATS server of one's own (compose, k8s).

The shipped deploy/nats/nats.conf names each user by a public nkey read from its environment
(`BOTRAM_NATS_<USER>_NKEY`); each service connects with its seed (`BOTRAM_NATS_NKEY_SEED`).
This prints both as `.env` lines, from seeds kept under `--dir` (created once, owner-only), so
running it again prints the same keys. `botram up` uses the same directory for the embedded
server.
"""

from pathlib import Path
from typing import Annotated

import typer

from botram_cli.nats_server import ensure_user_seeds
from botram_runtime.bus_access import key_variable, public_key


def seed_variable(user: str) -> str:
    """Compose's variable for a user's seed (docker-compose.yml hands it to that service)."""
    return f"BOTRAM_NATS_{user.upper()}_SEED"


def nats_keys(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where the seeds are kept (created once)")
    ] = Path("var/nats/users"),
) -> None:
    """Print each Botram NATS user's public key and seed as .env lines (docker compose)."""
    seeds = ensure_user_seeds(directory)
    print("# Public keys: the NATS server's environment (deploy/nats/nats.conf reads them).")
    for user, seed in seeds.items():
        print(f"{key_variable(user)}={public_key(seed)}")
    print("# Seeds: secrets, each for its own service (BOTRAM_NATS_NKEY_SEED); ops for people.")
    for user, seed in seeds.items():
        print(f"{seed_variable(user)}={seed.decode()}")
