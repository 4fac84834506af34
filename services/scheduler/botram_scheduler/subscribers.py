"""Scheduler bus consumers: it learns what citizens ask for from reporting's demand rankings."""

from botram_contracts.subjects import DEMAND_EVENTS
from botram_runtime.service import ServiceRuntime
from botram_scheduler.deps import Deps
from botram_scheduler.usecases import demand

# Durable consumer names: existing deployments have them, so they never change.
DEMAND_CONSUMER = "scheduler-demand"


def register(runtime: ServiceRuntime, deps: Deps) -> None:
    runtime.subscribe(
        DEMAND_EVENTS,
        durable=DEMAND_CONSUMER,
        handler=demand.record_ranking,
        description=(
            "Keeps the latest demand ranking per level: the next desa sessions generated "
            "offer its most demanded desa-eligible services."
        ),
    )
