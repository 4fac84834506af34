"""The sandbox: an integrator sends a signed sample event to their endpoint and sees the answer.

The event is the catalogue's sample of the type, for the subscription's agency (one of its
services), with a fresh id, the current time and the CloudEvents extension `sandbox: true`;
it is signed with the subscription's secret(s) exactly as deliveries are, sent once, and never
recorded as a delivery (the audit trail records who sent it).
"""

import json
from dataclasses import dataclass

import structlog

from botram_contracts.events import make_event
from botram_contracts.samples import SAMPLES
from botram_notifier.adapters.webhook_sender import signature_headers
from botram_notifier.deps import Deps
from botram_notifier.domain.subscriptions import SendTestEvent, sandbox_event_type, signing_secrets
from botram_notifier.store import SubscriptionRow
from botram_notifier.usecases.subscriptions import owned_subscription
from botram_runtime import audit

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SandboxResult:
    """What the endpoint made of the sandbox event."""

    event_id: str
    event_type: str
    delivered: bool
    status_code: int | None
    latency_ms: float
    error: str | None


async def send_test_event(deps: Deps, command: SendTestEvent) -> SandboxResult:
    async with deps.db.transaction() as tx:
        row = await owned_subscription(tx, command.actor, command.subscription_id)
        event_type = sandbox_event_type(command.event_type, row.event_types)
        audit.record(
            tx, command.actor, "send_test_event", subscription_id=row.id, agency=row.agency
        )
    body, event_id = _sample_for(deps, row, event_type)
    now = deps.clock()
    secrets = signing_secrets(row.secret, row.previous_secret, row.previous_secret_until, now)
    result = await deps.webhooks.post(
        row.url, body, signature_headers(event_id, body, secrets, now)
    )
    delivered = result.status_code is not None and 200 <= result.status_code < 300
    log.info("test_event_sent", subscription_id=row.id, agency=row.agency, delivered=delivered)
    return SandboxResult(
        event_id, event_type, delivered, result.status_code, result.latency_ms, result.error
    )


def _sample_for(deps: Deps, row: SubscriptionRow, event_type: str) -> tuple[bytes, str]:
    data = SAMPLES[event_type]
    if "agency" in type(data).model_fields:  # a ticket or service event: the agency's own
        service = (row.services or [s.code for s in deps.catalogue.for_agency(row.agency)])[0]
        data = data.model_copy(update={"agency": row.agency, "service": service})
    event = make_event(data).model_copy(update={"time": deps.clock()})
    body = json.loads(event.model_dump_json(by_alias=True)) | {"sandbox": True}
    return json.dumps(body).encode(), str(event.id)
