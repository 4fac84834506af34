"""(e) Resident memory of each service after a simulated day (`botram simulate`).

.venv/bin/python -m benchmarks.memory [--citizens 5000]
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import database_url, nats_server, report, start_service

SERVICES = ("scheduler", "registry", "notifier", "reporting")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--citizens", type=int, default=5000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        with nats_server(tmp) as server:
            processes = {
                name: start_service(name, tmp, server.url, database_url(args.database, tmp, name))
                for name in SERVICES
            }
            try:
                at_start = {name: p.rss_mb() for name, p in processes.items()}
                urls = [
                    f"--{n}-url={processes[n].url}" for n in ("scheduler", "registry", "reporting")
                ]
                simulation = subprocess.run(
                    [sys.executable, "-m", "botram_cli.main", "simulate", "--json",
                     "--citizens", str(args.citizens), "--desks", "3", *urls],
                    capture_output=True, text=True, check=False, timeout=3600,
                )  # fmt: skip
                after = {name: p.rss_mb() for name, p in processes.items()}
            finally:
                for process in processes.values():
                    process.stop()
    agrees = simulation.returncode == 0
    report(
        f"memory after a simulated day of {args.citizens:,} citizens ({args.database})",
        [(name, f"{at_start[name]:.0f} MB at start -> {after[name]:.0f} MB") for name in SERVICES]
        + [("simulation agrees with reporting", str(agrees))],
        {
            "database": args.database,
            "citizens": args.citizens,
            "rss_mb_after": {k: round(v, 1) for k, v in after.items()},
            "rss_mb_start": {k: round(v, 1) for k, v in at_start.items()},
            "simulation_agrees": agrees,
        },
    )
    if not agrees:
        print(simulation.stdout[-2000:], simulation.stderr[-2000:], file=sys.stderr)


if __name__ == "__main__":
    main()
