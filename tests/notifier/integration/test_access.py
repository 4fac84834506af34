"""Who may call each notifier route (docs/operations.md, "Access"), and whose subscriptions.

An agency acts only on its own subscriptions and deliveries (another agency's answer 404 and
stay as they were); an operator on any agency's; every change is audited with its actor.
"""

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.aio.client import Client as NatsClient
from sqlmodel import select
from standardwebhooks import Webhook

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.events import ServiceCompletedV1
from botram_notifier.main import create_app
from botram_notifier.settings import Settings
from botram_notifier.store import DeliveryRow, SubscriptionRow
from botram_runtime.db import Database
from helpers import (
    ALL_ROLES,
    PUBLIC,
    assert_access_matrix,
    assert_problem,
    eventually,
    publish_event,
    running,
    session_issuer,
)

SUBSCRIBERS: set[str] = {"agency", "operator"}
COMMON: dict[tuple[str, str], str | set[str]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/asyncapi"): PUBLIC,
    ("GET", "/asyncapi.json"): PUBLIC,
    ("GET", "/v1/audit"): {"operator"},
}
MATRIX: dict[tuple[str, str], str | set[str]] = COMMON | {
    ("POST", "/v1/subscriptions"): SUBSCRIBERS,
    ("GET", "/v1/subscriptions"): SUBSCRIBERS,
    # Not among the contract's public routes: any signed-in role.
    ("GET", "/v1/event-types"): set(ALL_ROLES),
    ("GET", "/v1/agencies"): set(ALL_ROLES),
    ("GET", "/v1/agencies/{agency}/services"): set(ALL_ROLES),
    ("GET", "/v1/schemas/{event_type}"): set(ALL_ROLES),
    ("GET", "/v1/subscriptions/{subscription_id}"): SUBSCRIBERS,
    ("POST", "/v1/subscriptions/{subscription_id}/rotate-secret"): SUBSCRIBERS,
    ("POST", "/v1/subscriptions/{subscription_id}/enable"): SUBSCRIBERS,
    ("POST", "/v1/subscriptions/{subscription_id}/disable"): SUBSCRIBERS,
    ("GET", "/v1/subscriptions/{subscription_id}/deliveries"): SUBSCRIBERS,
    ("POST", "/v1/subscriptions/{subscription_id}/test"): SUBSCRIBERS,
    ("POST", "/v1/subscriptions/{subscription_id}/replay"): SUBSCRIBERS,
    ("GET", "/v1/deliveries/{delivery_id}"): SUBSCRIBERS,
    ("POST", "/v1/deliveries/{delivery_id}/retry"): SUBSCRIBERS,
    ("POST", "/v1/opt-outs"): {"front-desk", "operator"},
}
COMPLETED = "botram.service.completed.v1"
Receiver = Any  # the `receiver` fixture (tests/notifier/conftest.py)
Completed = Callable[..., ServiceCompletedV1]


def agency(slug: str) -> dict[str, str]:
    """The headers of an agency's integration (its token names the agency)."""
    return session_issuer().headers("agency", agency=slug, subject=f"{slug}-system")


def bpjs_token() -> dict[str, str]:
    return agency("bpjs-kesehatan")


def baznas_token() -> dict[str, str]:
    return agency("baznas")


def operator_token() -> dict[str, str]:
    return session_issuer().headers("operator", subject="operator-1")


@pytest.fixture
def settings(nats_server: EmbeddedNatsServer, database_url: str) -> Settings:
    return Settings(
        nats_url=nats_server.url,
        database_url=database_url,
        notifier_retry_schedule="0.2",
        webhook_jitter=0,
        webhook_poll_seconds=0.1,
        webhook_timeout_seconds=5,
    )


@pytest.fixture
async def notifier(settings: Settings, nc: NatsClient) -> AsyncIterator[httpx.AsyncClient]:
    """The notifier, on a stream `nc` emptied first; requests send no token unless given."""
    async with running(create_app(settings), headers={}) as client:
        yield client


@pytest.fixture
async def stored(database_url: str) -> AsyncIterator[Callable[[], Any]]:
    """A snapshot of every subscription and delivery row, read from the database itself."""
    database = Database(database_url)

    async def snapshot() -> list[dict[str, Any]]:
        async with database.session() as tx:
            rows = [*(await tx.exec(select(SubscriptionRow))).all()]
            rows += [*(await tx.exec(select(DeliveryRow))).all()]
            return [row.model_dump(warnings=False) for row in rows]

    yield snapshot
    await database.dispose()


async def subscribe(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, **body: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/subscriptions", json={"url": url, "event_types": [COMPLETED]} | body, headers=headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def settled(client: httpx.AsyncClient, subscription_id: str, count: int) -> list[Any]:
    """The subscription's deliveries once `count` exist and none is pending (bounded)."""

    async def done() -> list[Any] | None:
        response = await client.get(
            f"/v1/subscriptions/{subscription_id}/deliveries", headers=operator_token()
        )
        found: list[Any] = response.json()
        if len(found) == count and all(d["status"] != "pending" for d in found):
            return found
        return None

    result: list[Any] = await eventually(done, within=15)
    return result


async def audit_trail(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/v1/audit", headers=operator_token())
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


async def test_every_route_answers_each_role_as_the_matrix_says(settings: Settings) -> None:
    app: FastAPI = create_app(settings)
    async with running(app) as client:
        await assert_access_matrix(client, app, MATRIX)


# --- the agency comes from the token -------------------------------------------------------


async def test_an_agency_subscribes_for_the_agency_of_its_token_only(
    notifier: httpx.AsyncClient,
) -> None:
    unnamed = await subscribe(notifier, bpjs_token(), "http://127.0.0.1:9/a")
    named = await subscribe(notifier, bpjs_token(), "http://127.0.0.1:9/b", agency="bpjs-kesehatan")
    other = await notifier.post(
        "/v1/subscriptions",
        json={"agency": "baznas", "url": "http://127.0.0.1:9/c", "event_types": [COMPLETED]},
        headers=bpjs_token(),
    )

    assert (unnamed["agency"], named["agency"]) == ("bpjs-kesehatan", "bpjs-kesehatan")
    assert_problem(other, 403, "agency-mismatch")
    listed = (await notifier.get("/v1/subscriptions", headers=operator_token())).json()
    assert [s["id"] for s in listed] == [unnamed["id"], named["id"]]


async def test_an_operator_names_the_agency_it_subscribes_for(
    notifier: httpx.AsyncClient,
) -> None:
    created = await subscribe(notifier, operator_token(), "http://127.0.0.1:9/a", agency="baznas")
    unnamed = await notifier.post(
        "/v1/subscriptions",
        json={"url": "http://127.0.0.1:9/b", "event_types": [COMPLETED]},
        headers=operator_token(),
    )

    assert created["agency"] == "baznas"
    assert_problem(unnamed, 422, "agency-required")


async def test_an_agency_token_without_its_agency_claim_is_refused(
    notifier: httpx.AsyncClient,
) -> None:
    nameless = session_issuer().headers("agency")

    created = await notifier.post(
        "/v1/subscriptions",
        json={"agency": "baznas", "url": "http://127.0.0.1:9/a", "event_types": [COMPLETED]},
        headers=nameless,
    )
    listed = await notifier.get("/v1/subscriptions", headers=nameless)

    assert_problem(created, 403, "agency-required")
    assert_problem(listed, 403, "agency-required")


async def test_an_agency_lists_only_its_own_subscriptions(notifier: httpx.AsyncClient) -> None:
    bpjs = await subscribe(notifier, bpjs_token(), "http://127.0.0.1:9/bpjs")
    baznas = await subscribe(notifier, baznas_token(), "http://127.0.0.1:9/baznas")

    async def ids(headers: dict[str, str], **params: str) -> list[str]:
        response = await notifier.get("/v1/subscriptions", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()]

    assert await ids(baznas_token()) == [baznas["id"]]
    assert await ids(baznas_token(), agency="bpjs-kesehatan") == []
    assert await ids(baznas_token(), agency="baznas") == [baznas["id"]]
    assert await ids(operator_token()) == [bpjs["id"], baznas["id"]]
    assert await ids(operator_token(), agency="bpjs-kesehatan") == [bpjs["id"]]


# --- attack 1: taking over another agency's webhooks ---------------------------------------


async def test_rotating_another_agencys_secret_answers_404_and_its_webhooks_stay_signed_by_the_old(
    notifier: httpx.AsyncClient,
    nc: NatsClient,
    receiver: Receiver,
    completed: Completed,
    stored: Callable[[], Any],
) -> None:
    bpjs = await subscribe(notifier, bpjs_token(), receiver.url)
    before = await stored()

    taken = await notifier.post(
        f"/v1/subscriptions/{bpjs['id']}/rotate-secret", headers=baznas_token()
    )
    unknown = await notifier.post(
        "/v1/subscriptions/00000000-0000-0000-0000-000000000000/rotate-secret",
        headers=baznas_token(),
    )

    body = assert_problem(taken, 404, "subscription-not-found")
    assert "whsec_" not in taken.text
    assert body["title"] == assert_problem(unknown, 404, "subscription-not-found")["title"]
    assert await stored() == before
    await publish_event(nc, completed(), "registry")
    await settled(notifier, bpjs["id"], count=1)
    (received,) = receiver.requests
    assert len(received.headers["webhook-signature"].split(" ")) == 1  # one secret signs
    Webhook(bpjs["secret"]).verify(received.body, received.headers)
    assert [e["action"] for e in await audit_trail(notifier)] == ["create_subscription"]


async def test_baznas_touching_bpjs_subscription_and_deliveries_gets_404_and_changes_nothing(
    notifier: httpx.AsyncClient,
    nc: NatsClient,
    receiver: Receiver,
    completed: Completed,
    stored: Callable[[], Any],
) -> None:
    receiver.answer(400)  # the delivery fails at once: a dead letter Baznas must not replay
    bpjs = await subscribe(notifier, bpjs_token(), receiver.url)
    await publish_event(nc, completed(), "registry")
    (dead,) = await settled(notifier, bpjs["id"], count=1)
    assert dead["status"] == "failed"
    before = await stored()
    subscription, delivery = f"/v1/subscriptions/{bpjs['id']}", f"/v1/deliveries/{dead['id']}"
    attempts = [
        ("GET", subscription, None),
        ("POST", f"{subscription}/rotate-secret", None),
        ("POST", f"{subscription}/enable", None),
        ("POST", f"{subscription}/disable", None),
        ("GET", f"{subscription}/deliveries", None),
        ("POST", f"{subscription}/replay", {"since": "2000-01-01T00:00:00Z"}),
        ("GET", delivery, None),
        ("POST", f"{delivery}/retry", None),
    ]

    for method, path, body in attempts:
        answer = await notifier.request(method, path, json=body, headers=baznas_token())
        what = "delivery" if path.startswith("/v1/deliveries") else "subscription"
        assert_problem(answer, 404, f"{what}-not-found")

    assert await stored() == before
    assert receiver.count() == 1
    assert [e["action"] for e in await audit_trail(notifier)] == ["create_subscription"]
    # The owner still may, which proves the refusals were about Baznas.
    own = await notifier.post(f"{delivery}/retry", headers=bpjs_token())
    assert own.status_code == 202, own.text


# --- forged tokens -------------------------------------------------------------------------


async def test_forged_tokens_are_refused_and_change_nothing(
    notifier: httpx.AsyncClient, stored: Callable[[], Any]
) -> None:
    bpjs = await subscribe(notifier, bpjs_token(), "http://127.0.0.1:9/hook")
    before = await stored()
    forged = session_issuer().forged_tokens("operator", "front-desk")

    for name, token in forged.items():
        headers = {"Authorization": f"Bearer {token}"}
        for method, path, body in [
            ("POST", f"/v1/subscriptions/{bpjs['id']}/rotate-secret", None),
            ("POST", f"/v1/subscriptions/{bpjs['id']}/disable", None),
            ("GET", "/v1/subscriptions", None),
            (
                "POST",
                "/v1/subscriptions",
                {"agency": "baznas", "url": "http://127.0.0.1:9/x", "event_types": [COMPLETED]},
            ),
            ("POST", "/v1/opt-outs", {"phone": "081234567890"}),
        ]:
            answer = await notifier.request(method, path, json=body, headers=headers)
            assert_problem(answer, 401, "unauthenticated")
            assert 'error="invalid_token"' in answer.headers["www-authenticate"], name
            assert token not in answer.text, name

    assert await stored() == before
    assert [e["action"] for e in await audit_trail(notifier)] == ["create_subscription"]


# --- the audit trail -----------------------------------------------------------------------


async def test_every_change_is_audited_with_its_actor_and_the_resulting_ids(
    notifier: httpx.AsyncClient, nc: NatsClient, receiver: Receiver, completed: Completed
) -> None:
    receiver.answer(400, 400)
    bpjs = await subscribe(notifier, bpjs_token(), receiver.url)
    sid = bpjs["id"]
    await publish_event(nc, completed(ticket_id="t-1"), "registry")
    await publish_event(nc, completed(ticket_id="t-2"), "registry")
    first, second = await settled(notifier, sid, count=2)

    steps = [
        (f"/v1/subscriptions/{sid}/rotate-secret", None, bpjs_token()),
        (f"/v1/subscriptions/{sid}/disable", None, bpjs_token()),
        (f"/v1/subscriptions/{sid}/enable", None, operator_token()),
        (f"/v1/deliveries/{first['id']}/retry", None, bpjs_token()),
        (f"/v1/subscriptions/{sid}/replay", {"since": "2000-01-01T00:00:00Z"}, operator_token()),
        ("/v1/opt-outs", {"phone": "081234567890"}, session_issuer().headers("front-desk")),
    ]
    for path, body, headers in steps:
        answer = await notifier.post(path, json=body, headers=headers)
        assert answer.status_code in (200, 202, 204), answer.text
    trail = list(reversed(await audit_trail(notifier)))

    assert [(e["action"], e["actor"]) for e in trail[:-1]] == [
        ("create_subscription", "bpjs-kesehatan-system"),
        ("rotate_subscription_secret", "bpjs-kesehatan-system"),
        ("disable_subscription", "bpjs-kesehatan-system"),
        ("enable_subscription", "operator-1"),
        ("retry_delivery", "bpjs-kesehatan-system"),
        ("replay_deliveries", "operator-1"),
    ]
    assert all(e["resource_ids"]["subscription_id"] == sid for e in trail[:-1])
    assert all(e["resource_ids"]["agency"] == "bpjs-kesehatan" for e in trail[:-1])
    assert trail[0]["agency"] == "bpjs-kesehatan" and trail[0]["roles"] == ["agency"]
    assert trail[4]["resource_ids"]["delivery_id"] == first["id"]
    assert trail[5]["resource_ids"]["delivery_ids"] == [second["id"]]
    opt_out = trail[-1]
    assert (opt_out["action"], opt_out["roles"], opt_out["resource_ids"]) == (
        "record_opt_out",
        ["front-desk"],
        {},
    )
    assert "081234567890" not in str(trail)  # never the phone number
    disabled = (await notifier.get(f"/v1/subscriptions/{sid}", headers=bpjs_token())).json()
    assert disabled["enabled"] is True
