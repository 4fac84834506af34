"""`botram schemas`: write (or check) the JSON Schemas of every event under shared/schemas/."""

from pathlib import Path
from typing import Annotated

import typer

from botram_contracts.samples import with_samples
from botram_contracts.schemas import render_schemas

DEFAULT_DIR = Path("shared/schemas")
# The agencies' guide shows one generated sample per event type they may read.
SAMPLES_DOC = Path("docs/agencies.md")


def schemas(
    out: Annotated[Path, typer.Option(help="Directory of the committed schemas")] = DEFAULT_DIR,
    check: Annotated[bool, typer.Option(help="Fail if a committed schema is stale")] = False,
    samples_doc: Annotated[
        Path, typer.Option(help="The document with the generated event samples")
    ] = SAMPLES_DOC,
) -> None:
    """Generate one JSON Schema per event type from the pydantic models, and the samples of
    docs/agencies.md."""
    _samples(samples_doc, check=check)
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


def _samples(document: Path, *, check: bool) -> None:
    if not document.exists():
        return  # run outside the repository: only the schemas
    text = document.read_text()
    generated = with_samples(text)
    if generated == text:
        return
    if check:
        typer.echo(f"stale event samples in {document}; run `make schemas`", err=True)
        raise typer.Exit(1)
    document.write_text(generated)
    typer.echo(f"wrote the event samples of {document}")
