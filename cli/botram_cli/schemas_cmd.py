"""`botram schemas`: write (or check) the JSON Schemas of every event under shared/schemas/."""

from pathlib import Path
from typing import Annotated

import typer

from botram_contracts.schemas import render_schemas

DEFAULT_DIR = Path("shared/schemas")


def schemas(
    out: Annotated[Path, typer.Option(help="Directory of the committed schemas")] = DEFAULT_DIR,
    check: Annotated[bool, typer.Option(help="Fail if a committed schema is stale")] = False,
) -> None:
    """Generate one JSON Schema per event type from the pydantic models."""
    rendered = render_schemas()
    stale = [
        name
        for name, text in rendered.items()
        if not (out / name).exists() or (out / name).read_text() != text
    ]
    extra = [p.name for p in out.glob("*.json") if p.name not in rendered] if out.exists() else []
    if check:
        if stale or extra:
            typer.echo(f"stale schemas: {', '.join(stale + extra)}; run `make schemas`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{len(rendered)} schemas up to date")
        return
    out.mkdir(parents=True, exist_ok=True)
    for name in extra:
        (out / name).unlink()
    for name, text in rendered.items():
        (out / name).write_text(text)
    typer.echo(f"wrote {len(rendered)} schemas to {out}")
