"""`python -m botram_notifier [serve | asyncapi]`: serve the notifier over HTTP.

`python -m botram_notifier agency-credentials <agency> [--dir deploy/nats] [--revoke]`:
create (or revoke) an agency's NATS credentials and durable consumers (docs/agencies.md).
"""

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from nats.js import JetStreamContext

from botram_contracts.reference import load_catalogue
from botram_notifier.adapters import nats_accounts
from botram_notifier.main import create_app
from botram_notifier.settings import Settings
from botram_runtime.bus_access import ensure_agency_consumers
from botram_runtime.serve import run_service


def agency_credentials(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m botram_notifier agency-credentials",
        description=(
            "Create an agency's durable consumers and NATS nkey; print its seed once (give it "
            "to the agency). Connects to NATS as the operator: BOTRAM_NATS_URL and the ops "
            "user's BOTRAM_NATS_NKEY_SEED."
        ),
    )
    parser.add_argument("agency", help="agency slug from the catalogue, e.g. bpjs-kesehatan")
    parser.add_argument(
        "--dir",
        type=Path,
        default=nats_accounts.DEFAULT_DIR,
        help="where agencies.json, nats.conf and cluster/nats.conf live",
    )
    parser.add_argument(
        "--revoke", action="store_true", help="remove the agency's access and consumers"
    )
    args = parser.parse_args(argv)
    settings = Settings()
    if args.revoke:
        removed = nats_accounts.revoke_credentials(args.agency, args.dir)
        print(f"{args.agency}: {'revoked' if removed else 'had no credentials'}", file=sys.stderr)
        try:
            asyncio.run(_on_bus(settings, nats_accounts.delete_consumers, args.agency))
        except Exception as error:
            print(f"Its consumers are left on the server ({error!r}).", file=sys.stderr)
    else:
        try:
            nats_accounts.check_agency(args.agency, set(load_catalogue().agencies))
            # The consumers first: if NATS refuses, no key is handed out.
            asyncio.run(_on_bus(settings, ensure_agency_consumers, args.agency))
        except ValueError as error:
            parser.error(str(error))
        except Exception as error:
            parser.error(f"could not create the agency's consumers on NATS: {error!r}")
        seed = nats_accounts.create_credentials(
            args.agency, args.dir, set(load_catalogue().agencies)
        )
        written = [args.dir / nats_accounts.REGISTRY_FILE] + [
            args.dir / name for name in nats_accounts.CONFIG_FILES if (args.dir / name).exists()
        ]
        print(
            f"Created the durable consumers of {args.agency} on stream BOTRAM and its NATS key: "
            f"wrote {', '.join(str(path) for path in written)} (the accounts block).",
            file=sys.stderr,
        )
        print(
            "Give the agency this seed over a secure channel; it is not stored anywhere:",
            file=sys.stderr,
        )
        print(seed.decode())
    print("Reload nats-server to apply: nats-server --signal reload (or SIGHUP).", file=sys.stderr)
    return 0


async def _on_bus(
    settings: Settings,
    action: Callable[[JetStreamContext, str], Awaitable[None]],
    agency: str,
) -> None:
    async with nats_accounts.operator_jetstream(settings) as js:
        await action(js, agency)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "agency-credentials":
        raise SystemExit(agency_credentials(sys.argv[2:]))
    run_service(Settings(), create_app)


if __name__ == "__main__":
    main()
