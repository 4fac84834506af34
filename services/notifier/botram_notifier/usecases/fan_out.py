"""Intake: a consumed event becomes one webhook delivery per matching subscription (held while
the subscription is disabled, sent when it is enabled again)."""

from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events import CloudEvent
from botram_notifier.deps import Deps
from botram_notifier.domain.deliveries import initial_status
from botram_notifier.domain.subscriptions import subscription_matches
from botram_notifier.store import DeliveryRow, SubscriptionRow, new_id
from botram_runtime.bus import delivered_payload
from botram_runtime.db import upsert_insert


async def fan_out(deps: Deps, tx: AsyncSession, event: CloudEvent[Any]) -> int:
    """Stage one delivery per matching subscription (in the consumer's transaction); a disabled
    subscription's is held until it is enabled again.

    The delivery carries the event's bytes exactly as they arrived, so an agency receives the
    fields this version of the notifier does not know too. Returns how many were staged.
    """
    payload = delivered_payload()
    data = event.data.model_dump(mode="json")
    subscriptions = (await tx.exec(select(SubscriptionRow))).all()
    now = deps.clock()
    staged = 0
    for subscription in subscriptions:
        if not subscription_matches(
            agency=subscription.agency,
            event_types=subscription.event_types,
            services=subscription.services,
            event_type=event.type,
            data=data,
        ):
            continue
        insert = upsert_insert(tx)
        # Unique (subscription, event): a redelivered event never becomes a second delivery.
        statement = (
            insert(DeliveryRow)
            .values(
                id=new_id(),
                subscription_id=subscription.id,
                event_id=str(event.id),
                event_type=event.type,
                agency=subscription.agency,
                payload=payload,
                status=initial_status(subscription.enabled),
                attempts=0,
                retries_done=0,
                next_attempt_at=now,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["subscription_id", "event_id"])
        )
        result = await tx.exec(statement)
        staged += int(bool(result.rowcount))
    return staged
