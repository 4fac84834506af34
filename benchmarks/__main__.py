"""`make bench`: the benchmarks a newcomer runs first, one after the other, each in a process
of its own (its table and JSON line as it prints them).

    .venv/bin/python -m benchmarks [--quick] [--database sqlite|postgresql] [--only checkin ...]

Each benchmark measures its own baseline in the same run, so compare the ratios. wrk is found
or installed first (benchmarks/wrk.py). The run ends non-zero when any benchmark failed or
refused to print figures (its load generator did not keep up), naming which.
"""

import argparse
import os
import subprocess
import sys

from benchmarks import wrk
from benchmarks.common import child_environment

# name -> (arguments of a full run, arguments of a quick one)
SUITE: dict[str, tuple[list[str], list[str]]] = {
    "checkin": (
        ["--seconds", "10", "--latency-seconds", "60"],
        ["--seconds", "5", "--latency-seconds", "10"],
    ),
    "ingest": (["--events", "50000"], ["--events", "10000"]),
    "rebuild": (["--events", "200000"], ["--events", "30000"]),
    "freshness": (["--seconds", "10"], ["--seconds", "5"]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs (about 2 minutes)")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--only", nargs="+", choices=list(SUITE), help="these benchmarks only")
    args = parser.parse_args()
    wrk.ensure()
    print(f"machine load (1, 5, 15 min): {os.getloadavg()}; cores: {os.cpu_count()}", flush=True)
    failed: list[str] = []
    for name in args.only or list(SUITE):
        full, quick = SUITE[name]
        argv = [sys.executable, "-m", f"benchmarks.{name}", "--database", args.database]
        argv += quick if args.quick else full
        print(f"\n$ {' '.join(argv[1:])}", flush=True)
        status = subprocess.run(argv, env=child_environment(keep_botram=True), check=False)
        if status.returncode != 0:
            failed.append(f"{name} (exit {status.returncode})")
    if failed:
        sys.exit("failed or refused to print figures: " + ", ".join(failed))


if __name__ == "__main__":
    main()
