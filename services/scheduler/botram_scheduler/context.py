"""What the scheduler's entry points hand to its use cases, built once at start-up."""

from dataclasses import dataclass
from pathlib import Path

from botram_contracts.reference import Catalogue, Regency
from botram_runtime.clock import Clock
from botram_runtime.db import Database
from botram_scheduler.rules import Rules, load_rules
from botram_scheduler.settings import Settings


@dataclass(frozen=True)
class SchedulerContext:
    settings: Settings
    db: Database
    clock: Clock
    catalogue: Catalogue
    regions: Regency
    rules_path: Path | None = None

    def rules(self) -> Rules:
        """The rotation rules as the file says now: planners edit it, then generate again."""
        return load_rules(self.rules_path, self.regions, self.catalogue)
