"""`botram asyncapi`: write (or check) each service's AsyncAPI document under docs/asyncapi/.

Each service generates its own document (FastStream); this command runs them as processes,
because the CLI, like every app, never imports a service.
"""

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from botram_cli.up import SERVICES

DEFAULT_DIR = Path("docs/asyncapi")


def render(service: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", f"botram_{service}", "asyncapi"],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def asyncapi(
    out: Annotated[Path, typer.Option(help="Directory of the committed documents")] = DEFAULT_DIR,
    check: Annotated[bool, typer.Option(help="Fail if a committed document is stale")] = False,
) -> None:
    """Generate the AsyncAPI document of every service."""
    stale = []
    for service in SERVICES:
        path = out / f"{service}.json"
        text = render(service)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
            continue
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if stale:
        typer.echo(f"stale AsyncAPI documents: {', '.join(stale)}; run `make schemas`", err=True)
        raise typer.Exit(1)
    typer.echo("AsyncAPI documents up to date" if check else f"wrote {len(SERVICES)} documents")
