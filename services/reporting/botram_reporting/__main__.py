"""`python -m botram_reporting [serve | asyncapi | rebuild]`: serve the reporting over HTTP,
print its AsyncAPI document, or rebuild its tables from the stream (service stopped)."""

import asyncio
import dataclasses
import sys

from botram_reporting.replay import ReplayGap
from botram_reporting.settings import Settings
from botram_runtime.gc_tuning import tune_garbage_collector


def run_rebuild(settings: Settings) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from botram_reporting.rebuild_command import rebuild_from_stream

    console = Console(stderr=True)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("Replaying events", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            counts = asyncio.run(rebuild_from_stream(settings, advance))
        except ReplayGap as gap:
            console.print(f"Rebuild stopped, the replay missed events ({gap}): run it again.")
            sys.exit(1)
    console.print(
        "Rebuilt: {read} events read, {applied} applied, {duplicates} duplicates, "
        "{unknown} of unknown type, {malformed} malformed.".format(**dataclasses.asdict(counts))
    )


def main() -> None:
    settings = Settings()
    if len(sys.argv) > 1 and sys.argv[1] == "rebuild":
        tune_garbage_collector()  # a replay allocates like a busy service: +25 % here
        run_rebuild(settings)
        return
    # Imported here: a rebuild needs neither the web framework nor FastStream.
    from botram_reporting.main import create_app
    from botram_runtime.serve import run_service

    run_service(settings, create_app)


if __name__ == "__main__":
    main()
