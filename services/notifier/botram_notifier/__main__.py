"""`python -m botram_notifier [serve | asyncapi]`: serve the notifier over HTTP.

`python -m botram_notifier agency-credentials <agency> [--dir deploy/nats] [--revoke]`:
create (or revoke) an agency's NATS credentials (see docs/agencies.md).
"""

import argparse
import sys
from pathlib import Path

from botram_contracts.reference import load_catalogue
from botram_notifier.adapters import nats_accounts
from botram_notifier.main import create_app
from botram_notifier.settings import Settings
from botram_runtime.serve import run_service


def agency_credentials(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m botram_notifier agency-credentials",
        description="Create an agency's NATS nkey; print its seed once (give it to the agency).",
    )
    parser.add_argument("agency", help="agency slug from the catalogue, e.g. bpjs-kesehatan")
    parser.add_argument(
        "--dir",
        type=Path,
        default=nats_accounts.DEFAULT_DIR,
        help="where nats.conf, accounts.conf and agencies.json live",
    )
    parser.add_argument("--revoke", action="store_true", help="remove the agency's access")
    args = parser.parse_args(argv)
    if args.revoke:
        removed = nats_accounts.revoke_credentials(args.agency, args.dir)
        print(f"{args.agency}: {'revoked' if removed else 'had no credentials'}", file=sys.stderr)
    else:
        try:
            seed = nats_accounts.create_credentials(
                args.agency, args.dir, set(load_catalogue().agencies)
            )
        except ValueError as error:
            parser.error(str(error))
        print(
            f"Created NATS credentials for {args.agency} in {args.dir}/accounts.conf.",
            file=sys.stderr,
        )
        print(
            "Give the agency this seed over a secure channel; it is not stored anywhere:",
            file=sys.stderr,
        )
        print(seed.decode())
    print("Reload nats-server to apply: nats-server --signal reload (or SIGHUP).", file=sys.stderr)
    return 0


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "agency-credentials":
        raise SystemExit(agency_credentials(sys.argv[2:]))
    run_service(Settings(), create_app)


if __name__ == "__main__":
    main()
