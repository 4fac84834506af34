"""The registry's consumers, as registered on the runtime (no bus needed)."""

from typing import Any

from botram_registry import subscribers
from botram_registry.deps import Deps
from botram_registry.usecases.sessions import apply_session_event


class RecordingRuntime:
    """Records what a service subscribes to instead of consuming anything."""

    def __init__(self) -> None:
        self.subscriptions: list[tuple[str, dict[str, Any]]] = []

    def subscribe(self, subject: str, **options: Any) -> None:
        self.subscriptions.append((subject, options))


def test_sessions_are_consumed_by_the_durable_consumer_deployments_already_have(
    deps: Deps,
) -> None:
    runtime = RecordingRuntime()

    subscribers.register(runtime, deps)  # type: ignore[arg-type]

    [(subject, options)] = runtime.subscriptions
    assert (subject, options["durable"]) == ("botram.session.>", "registry-sessions")
    handler = options["handler"]
    assert (handler.func, handler.args) == (apply_session_event, (deps,))
