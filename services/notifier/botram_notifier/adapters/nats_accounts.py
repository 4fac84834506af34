"""Direct NATS access for agencies: their nkey users and the durable consumers they read.

`python -m botram_notifier agency-credentials <agency>` (run by the Botram operator, with the
operator's NATS settings: `BOTRAM_NATS_URL` and the `ops` user's `BOTRAM_NATS_NKEY_SEED`):
1. creates the agency's three durable pull consumers on `BOTRAM`, each bound to one filter;
2. creates (or replaces) the agency's key pair, records its public key in
   `deploy/nats/agencies.json` and regenerates the accounts block of `deploy/nats/nats.conf`
   and of the cluster's `deploy/nats/cluster/nats.conf` (between the BEGIN/END markers: each
   file stays self-contained, as compose and Kubernetes mount only it): the services' and the
   operator's users (`botram_runtime.bus_access`) and one user per agency;
3. prints the seed (the secret) once for the agency; Botram never stores it. docs/agencies.md.

An agency user, in the BOTRAM account, may only:
- subscribe (core NATS) to its own ticket/service subjects and the session subjects;
- read, fetch from and acknowledge its own three consumers: it cannot create, change or
  delete a consumer (so no push consumer delivering anywhere), nor call any other JetStream
  API (`$JS.API.INFO` included);
- receive replies on its own inbox prefix `_INBOX_<agency>`, never the services' inboxes.
Nothing of `botram.citizen.>` or `botram.private.>` is ever allowed (denied explicitly too).
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import nats
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from botram_runtime.bus_access import (
    BEGIN_MARKER,
    END_MARKER,
    OPS_INBOX_PREFIX,
    agency_consumers,
    agency_users,
    botram_users,
    new_user_seed,
    public_key,
    render_accounts,
)
from botram_runtime.bus_client import connect_options
from botram_runtime.settings import ServiceSettings
from botram_runtime.stream import STREAM_NAME

REGISTRY_FILE = "agencies.json"
# Every file with a generated accounts block, relative to the directory of agencies.json.
CONFIG_FILES = ("nats.conf", "cluster/nats.conf")
DEFAULT_DIR = Path("deploy/nats")
GENERATED_BY = "`python -m botram_notifier agency-credentials` from agencies.json"


def accounts_block(agencies: dict[str, str]) -> str:
    """The accounts block: the services, the operator and one user per agency."""
    users = botram_users() + agency_users(agencies)
    return render_accounts(users, generated_by=GENERATED_BY)


def load_registry(directory: Path) -> dict[str, str]:
    path = directory / REGISTRY_FILE
    if not path.exists():
        return {}
    data: dict[str, str] = json.loads(path.read_text())
    return data


def write_config(directory: Path, agencies: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / REGISTRY_FILE).write_text(json.dumps(agencies, indent=2, sort_keys=True) + "\n")
    block = accounts_block(agencies)
    for name in CONFIG_FILES:
        config = directory / name
        if not config.exists():
            continue  # e.g. a directory holding the single-node config only
        text = config.read_text()
        start, end = text.find(BEGIN_MARKER), text.find(END_MARKER)
        if start < 0 or end < start:
            raise ValueError(f"{config} has no {BEGIN_MARKER} ... {END_MARKER} block")
        config.write_text(text[:start] + block + text[end + len(END_MARKER) :])


@asynccontextmanager
async def operator_jetstream(settings: ServiceSettings) -> AsyncIterator[JetStreamContext]:
    """JetStream as the operator (the `BOTRAM_NATS_*` settings name the `ops` user): one try."""
    nc = await nats.connect(
        **connect_options(settings, inbox_prefix=OPS_INBOX_PREFIX), allow_reconnect=False
    )
    try:
        yield nc.jetstream(timeout=5)
    finally:
        await nc.close()


async def delete_consumers(js: JetStreamContext, agency: str) -> None:
    for name in agency_consumers(agency):
        with suppress(NotFoundError):
            await js.delete_consumer(STREAM_NAME, name)


def create_credentials(agency: str, directory: Path, known_agencies: set[str]) -> bytes:
    """Give an agency a new key (replacing any old one); returns its seed, stored nowhere."""
    check_agency(agency, known_agencies)
    seed = new_user_seed()
    agencies = load_registry(directory)
    agencies[agency] = public_key(seed)
    write_config(directory, agencies)
    return seed


def check_agency(agency: str, known_agencies: set[str]) -> None:
    if agency not in known_agencies:
        raise ValueError(f"unknown agency {agency!r}; known: {', '.join(sorted(known_agencies))}")


def revoke_credentials(agency: str, directory: Path) -> bool:
    agencies = load_registry(directory)
    removed = agencies.pop(agency, None) is not None
    write_config(directory, agencies)
    return removed
