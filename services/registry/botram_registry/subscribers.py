"""The registry's consumers: it learns sessions only from the scheduler's events."""

import functools

from botram_contracts.subjects import SESSION_EVENTS
from botram_registry.deps import Deps
from botram_registry.usecases import sessions
from botram_runtime.service import ServiceRuntime

# The durable consumer's name: deployments have it; renaming it would replay every event.
SESSION_CONSUMER = "registry-sessions"


def register(runtime: ServiceRuntime, deps: Deps) -> None:
    runtime.subscribe(
        SESSION_EVENTS,
        durable=SESSION_CONSUMER,
        handler=functools.partial(sessions.apply_session_event, deps),
        description="Keeps the registry's copy of each session (status, services, quotas).",
    )
