"""Notifier HTTP routes: parse the body into a command, call a use case, map the result."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status

from botram_notifier.deps import DepsDep
from botram_notifier.domain.deliveries import (
    DeliveryStatus,
    FindDeliveries,
    GetDelivery,
    ReplayFailed,
    RetryDelivery,
)
from botram_notifier.domain.messages import OptOutPhone
from botram_notifier.domain.subscriptions import (
    CreateSubscription,
    FindSubscriptions,
    GetSubscription,
    RotateSecret,
    SendTestEvent,
    SetEnabled,
)
from botram_notifier.schemas import (
    AgencyPublic,
    DeliveryPublic,
    EventTypePublic,
    OptOut,
    ReplayRequest,
    ReplayResult,
    SecretRotated,
    ServicePublic,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
    TestEventRequest,
    TestEventResult,
)
from botram_notifier.usecases import catalogue, deliveries, sandbox, sending, subscriptions
from botram_runtime.access import allow
from botram_runtime.actors import Actor, Role
from botram_runtime.inputs import Slug

router = APIRouter(prefix="/v1")

# Who may call what (docs/operations.md, "Access"); tests/notifier/integration/test_access.py.
# An agency acts on its own subscriptions only (domain/ownership.py), an operator on any.
Subscriber = Annotated[Actor, Depends(allow(Role.AGENCY, Role.OPERATOR))]
OptOutRecorder = Annotated[Actor, Depends(allow(Role.FRONT_DESK, Role.OPERATOR))]
# Not on the contract's list of public routes: any signed-in role may read it.
SIGNED_IN = [Depends(allow(*Role))]
NEXT_PAGE_HEADER = {
    "description": 'The next page (RFC 8288): `</v1/...?cursor=...>; rel="next"`; absent on '
    "the last page",
    "schema": {"type": "string"},
}


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED, tags=["webhooks"])
async def create_subscription(
    body: SubscriptionCreate, deps: DepsDep, actor: Subscriber
) -> SubscriptionCreated:
    """Subscribe an agency's endpoint to its events; the answer holds the signing secret."""
    command = CreateSubscription(
        actor=actor,
        agency=body.agency,
        url=body.url,
        event_types=body.event_types,
        services=body.services,
    )
    return SubscriptionCreated.of(await subscriptions.create_subscription(deps, command))


@router.get("/subscriptions", tags=["webhooks"])
async def list_subscriptions(
    deps: DepsDep, actor: Subscriber, agency: Annotated[Slug | None, Query()] = None
) -> list[SubscriptionPublic]:
    """List the caller's subscriptions (an operator's: all, or one agency's); no secrets."""
    rows = await subscriptions.list_subscriptions(deps, FindSubscriptions(actor, agency))
    return [SubscriptionPublic.of(row) for row in rows]


@router.get("/agencies", tags=["catalogue"], dependencies=SIGNED_IN)
async def list_agencies(deps: DepsDep) -> list[AgencyPublic]:
    """Every agency that staffs desks (the `agency` of subscriptions and tokens)."""
    return [AgencyPublic.model_validate(a.model_dump()) for a in catalogue.agencies(deps)]


@router.get("/agencies/{agency}/services", tags=["catalogue"], dependencies=SIGNED_IN)
async def list_agency_services(agency: Slug, deps: DepsDep) -> list[ServicePublic]:
    """An agency's services (the `services` of a subscription)."""
    services = catalogue.agency_services(deps, agency)
    return [ServicePublic.model_validate(s, from_attributes=True) for s in services]


@router.get("/event-types", tags=["catalogue"], dependencies=SIGNED_IN)
async def event_types() -> list[EventTypePublic]:
    """The event types an agency may subscribe to: subject pattern, schema link, sample."""
    return [
        EventTypePublic.model_validate(e, from_attributes=True) for e in catalogue.event_types()
    ]


@router.get("/schemas/{event_type}", tags=["catalogue"], dependencies=SIGNED_IN)
async def event_schema(event_type: Slug) -> dict[str, Any]:
    """The JSON Schema of an event type (the CloudEvent with its typed data)."""
    return catalogue.event_schema(event_type)


@router.get("/subscriptions/{subscription_id}", tags=["webhooks"])
async def get_subscription(
    subscription_id: str, deps: DepsDep, actor: Subscriber
) -> SubscriptionPublic:
    """One subscription, with whether (and why) it is disabled."""
    command = GetSubscription(actor, subscription_id)
    return SubscriptionPublic.of(await subscriptions.get_subscription(deps, command))


@router.post("/subscriptions/{subscription_id}/rotate-secret", tags=["webhooks"])
async def rotate_secret(subscription_id: str, deps: DepsDep, actor: Subscriber) -> SecretRotated:
    """Issue a new secret; the old one keeps signing beside it for the overlap window."""
    command = RotateSecret(actor, subscription_id)
    return SecretRotated.of(await subscriptions.rotate_secret(deps, command))


@router.post("/subscriptions/{subscription_id}/enable", tags=["webhooks"])
async def enable_subscription(
    subscription_id: str, deps: DepsDep, actor: Subscriber
) -> SubscriptionPublic:
    """Enable a subscription again (after a 410 or an auto-disable)."""
    command = SetEnabled(actor, subscription_id, enabled=True)
    return SubscriptionPublic.of(await subscriptions.set_enabled(deps, command))


@router.post("/subscriptions/{subscription_id}/disable", tags=["webhooks"])
async def disable_subscription(
    subscription_id: str, deps: DepsDep, actor: Subscriber
) -> SubscriptionPublic:
    """Stop delivering to a subscription."""
    command = SetEnabled(actor, subscription_id, enabled=False)
    return SubscriptionPublic.of(await subscriptions.set_enabled(deps, command))


@router.post("/subscriptions/{subscription_id}/test", tags=["webhooks"])
async def send_test_event(
    subscription_id: str, deps: DepsDep, actor: Subscriber, body: TestEventRequest | None = None
) -> TestEventResult:
    """The sandbox: send a signed sample event to the endpoint now and report its answer
    (enabled or not; not recorded as a delivery; the CloudEvent carries `sandbox: true`)."""
    event_type = body.event_type if body else None
    command = SendTestEvent(actor, subscription_id, event_type)
    sent = await sandbox.send_test_event(deps, command)
    return TestEventResult.model_validate(sent, from_attributes=True)


@router.get(
    "/subscriptions/{subscription_id}/deliveries",
    tags=["webhooks"],
    responses={200: {"headers": {"Link": NEXT_PAGE_HEADER}}},
)
async def list_deliveries(
    subscription_id: str,
    request: Request,
    response: Response,
    deps: DepsDep,
    actor: Subscriber,
    status: Literal["pending", "delivered", "failed", "held"] | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> list[DeliveryPublic]:
    """A subscription's deliveries with every attempt, newest first; `status=failed` is the
    dead letter. More than `limit`: the `Link` header names the next page (`rel="next"`)."""
    wanted = DeliveryStatus(status) if status else None
    command = FindDeliveries(actor, subscription_id, wanted, limit, cursor)
    found = await deliveries.list_deliveries(deps, command)
    if found.next_cursor:
        next_page = request.url.include_query_params(cursor=found.next_cursor)
        response.headers["link"] = f'<{next_page.path}?{next_page.query}>; rel="next"'
    return [DeliveryPublic.of(row, attempts) for row, attempts in found.items]


@router.post("/subscriptions/{subscription_id}/replay", tags=["webhooks"])
async def replay(
    subscription_id: str, body: ReplayRequest, deps: DepsDep, actor: Subscriber
) -> ReplayResult:
    """Replay every failed delivery of a subscription since a moment."""
    command = ReplayFailed(actor, subscription_id, body.since)
    return ReplayResult(replayed=await deliveries.replay_failed(deps, command))


@router.get("/deliveries/{delivery_id}", tags=["webhooks"])
async def get_delivery(delivery_id: str, deps: DepsDep, actor: Subscriber) -> DeliveryPublic:
    """One delivery with every attempt (status, latency, error)."""
    return DeliveryPublic.of(*await deliveries.get_delivery(deps, GetDelivery(actor, delivery_id)))


@router.post("/deliveries/{delivery_id}/retry", status_code=202, tags=["webhooks"])
async def retry_delivery(delivery_id: str, deps: DepsDep, actor: Subscriber) -> DeliveryPublic:
    """Send a failed (dead-lettered) delivery again."""
    command = RetryDelivery(actor, delivery_id)
    return DeliveryPublic.of(*await deliveries.retry_delivery(deps, command))


@router.post("/opt-outs", status_code=204, tags=["citizens"])
async def opt_out(body: OptOut, deps: DepsDep, actor: OptOutRecorder) -> Response:
    """A citizen asks for no more messages (e.g. relayed from the gateway's STOP reply)."""
    await sending.opt_out(deps, OptOutPhone(actor, body.phone))
    return Response(status_code=204)
