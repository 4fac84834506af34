"""`python -m botram_reporting rebuild`: the database migrated, then the stream replayed.

Apart from `main.py` so that a rebuild imports only what it runs (no web framework, no
FastStream): its rate is counted from process start, and those imports took seconds.
"""

from botram_reporting.deps import MIGRATIONS, build_deps
from botram_reporting.replay import replay_stream
from botram_reporting.settings import Settings
from botram_reporting.usecases.rebuild import Progress, Replayed, rebuild
from botram_runtime.db import Database


async def rebuild_from_stream(settings: Settings, progress: Progress | None = None) -> Replayed:
    """Migrate the database, then replay the stream into its emptied tables (service stopped)."""
    db = Database(
        settings.resolved_database_url(),
        service=settings.service_name,
        sqlite_inline=settings.sqlite_inline,
    )
    try:
        await db.migrate(MIGRATIONS)
        async with replay_stream(settings, settings.reporting_rebuild_batch_size) as replay:
            return await rebuild(build_deps(settings, db, publish_rankings=False), replay, progress)
    finally:
        await db.dispose()
