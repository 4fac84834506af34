"""Notifier HTTP routes: parse, call a use case, map its errors to problem+json."""

from typing import Literal

from fastapi import APIRouter, Query, Request, Response, status

from botram_notifier import citizens, handlers
from botram_notifier.domain import NotifierError, agency_event_types
from botram_notifier.schemas import (
    DeliveryPublic,
    OptOut,
    ReplayRequest,
    ReplayResult,
    SecretRotated,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
)
from botram_runtime.problems import Problem

router = APIRouter(prefix="/v1")


def _notifier(request: Request) -> handlers.Notifier:
    return request.app.state.notifier  # type: ignore[no-any-return]


def _problem(error: NotifierError) -> Problem:
    return Problem(error.status, str(error), code=error.code)


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED, tags=["webhooks"])
async def create_subscription(body: SubscriptionCreate, request: Request) -> SubscriptionCreated:
    """Subscribe an agency's endpoint to its events; the answer holds the signing secret."""
    try:
        row = await handlers.create_subscription(
            _notifier(request),
            agency=body.agency,
            url=body.url,
            event_types=body.event_types,
            services=body.services,
        )
    except NotifierError as error:
        raise _problem(error) from error
    return SubscriptionCreated.of(row)


@router.get("/subscriptions", tags=["webhooks"])
async def list_subscriptions(
    request: Request, agency: str | None = None
) -> list[SubscriptionPublic]:
    """List subscriptions (secrets are never shown again)."""
    rows = await handlers.list_subscriptions(_notifier(request), agency)
    return [SubscriptionPublic.of(row) for row in rows]


@router.get("/event-types", tags=["webhooks"])
async def event_types() -> list[str]:
    """The event types an agency may subscribe to."""
    return agency_event_types()


@router.get("/subscriptions/{subscription_id}", tags=["webhooks"])
async def get_subscription(subscription_id: str, request: Request) -> SubscriptionPublic:
    """One subscription, with whether (and why) it is disabled."""
    try:
        row = await handlers.find_subscription(_notifier(request), subscription_id)
    except NotifierError as error:
        raise _problem(error) from error
    return SubscriptionPublic.of(row)


@router.post("/subscriptions/{subscription_id}/rotate-secret", tags=["webhooks"])
async def rotate_secret(subscription_id: str, request: Request) -> SecretRotated:
    """Issue a new secret; the old one keeps signing beside it for the overlap window."""
    try:
        row = await handlers.rotate_secret(_notifier(request), subscription_id)
    except NotifierError as error:
        raise _problem(error) from error
    return SecretRotated(
        id=row.id, secret=row.secret, previous_secret_valid_until=row.previous_secret_until
    )


@router.post("/subscriptions/{subscription_id}/enable", tags=["webhooks"])
async def enable_subscription(subscription_id: str, request: Request) -> SubscriptionPublic:
    """Enable a subscription again (after a 410 or an auto-disable)."""
    try:
        row = await handlers.set_enabled(_notifier(request), subscription_id, True)
    except NotifierError as error:
        raise _problem(error) from error
    return SubscriptionPublic.of(row)


@router.post("/subscriptions/{subscription_id}/disable", tags=["webhooks"])
async def disable_subscription(subscription_id: str, request: Request) -> SubscriptionPublic:
    """Stop delivering to a subscription."""
    try:
        row = await handlers.set_enabled(_notifier(request), subscription_id, False)
    except NotifierError as error:
        raise _problem(error) from error
    return SubscriptionPublic.of(row)


@router.get("/subscriptions/{subscription_id}/deliveries", tags=["webhooks"])
async def list_deliveries(
    subscription_id: str,
    request: Request,
    status: Literal["pending", "delivered", "failed"] | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[DeliveryPublic]:
    """A subscription's deliveries with every attempt; `status=failed` is the dead letter."""
    try:
        found = await handlers.list_deliveries(_notifier(request), subscription_id, status, limit)
    except NotifierError as error:
        raise _problem(error) from error
    return [DeliveryPublic.of(row, attempts) for row, attempts in found]


@router.post("/subscriptions/{subscription_id}/replay", tags=["webhooks"])
async def replay(subscription_id: str, body: ReplayRequest, request: Request) -> ReplayResult:
    """Replay every failed delivery of a subscription since a moment."""
    try:
        count = await handlers.replay_failed(_notifier(request), subscription_id, body.since)
    except NotifierError as error:
        raise _problem(error) from error
    return ReplayResult(replayed=count)


@router.get("/deliveries/{delivery_id}", tags=["webhooks"])
async def get_delivery(delivery_id: str, request: Request) -> DeliveryPublic:
    """One delivery with every attempt (status, latency, error)."""
    try:
        row, attempts = await handlers.get_delivery(_notifier(request), delivery_id)
    except NotifierError as error:
        raise _problem(error) from error
    return DeliveryPublic.of(row, attempts)


@router.post("/deliveries/{delivery_id}/retry", status_code=202, tags=["webhooks"])
async def retry_delivery(delivery_id: str, request: Request) -> DeliveryPublic:
    """Send a failed (dead-lettered) delivery again."""
    notifier = _notifier(request)
    try:
        await handlers.retry_delivery(notifier, delivery_id)
        row, attempts = await handlers.get_delivery(notifier, delivery_id)
    except NotifierError as error:
        raise _problem(error) from error
    return DeliveryPublic.of(row, attempts)


@router.post("/opt-outs", status_code=204, tags=["citizens"])
async def opt_out(body: OptOut, request: Request) -> Response:
    """A citizen asks for no more messages (e.g. relayed from the gateway's STOP reply)."""
    await citizens.opt_out(_notifier(request), body.phone)
    return Response(status_code=204)
