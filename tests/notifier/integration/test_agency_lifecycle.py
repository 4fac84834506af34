"""What an agency's integration lives through: the catalogue, the sandbox, a disabled
subscription that keeps its events, deliveries a page at a time, bounded metric labels."""

from typing import Any

import httpx
import jsonschema
import pytest
from nats.aio.client import Client as NatsClient
from standardwebhooks import Webhook

from helpers import assert_problem, eventually, publish_event, session_issuer

COMPLETED = "botram.service.completed.v1"
AGENCY = "bpjs-kesehatan"
Receiver = Any  # the `receiver` fixture (tests/notifier/conftest.py)
Completed = Any  # the `completed` fixture


async def subscribe(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    response = await client.post(
        "/v1/subscriptions",
        json={"url": url, "event_types": [COMPLETED]},
        headers=session_issuer().headers("agency", agency=AGENCY),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def deliveries(client: httpx.AsyncClient, subscription_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/subscriptions/{subscription_id}/deliveries")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def test_events_while_disabled_are_held_and_each_delivered_exactly_once_on_enable(
    notifier: httpx.AsyncClient, nc: NatsClient, receiver: Receiver, completed: Completed
) -> None:
    receiver.answer(410)
    subscription = await subscribe(notifier, receiver.url)
    path = f"/v1/subscriptions/{subscription['id']}"
    gone = await publish_event(nc, completed(ticket_id="t-0"), "registry")

    async def disabled() -> bool:
        return (await notifier.get(path)).json()["enabled"] is False

    await eventually(disabled, within=15)
    while_disabled = [
        await publish_event(nc, completed(ticket_id=f"t-{n}"), "registry") for n in range(1, 7)
    ]

    async def all_held() -> list[dict[str, Any]] | None:
        held = [d for d in await deliveries(notifier, subscription["id"]) if d["status"] == "held"]
        return held if len(held) == 6 else None

    held = await eventually(all_held, within=15)
    assert receiver.count() == 1  # nothing was sent while disabled
    assert {d["event_id"] for d in held} == {str(e.id) for e in while_disabled}

    enabled = await notifier.post(f"{path}/enable")
    assert enabled.status_code == 200, enabled.text

    async def all_sent() -> bool:
        return receiver.count() == 7

    await eventually(all_sent, within=15)
    sent = [r.headers["webhook-id"] for r in receiver.requests[1:]]
    assert sorted(sent) == sorted(str(e.id) for e in while_disabled)  # each exactly once
    assert str(gone.id) not in sent  # the endpoint said 410 to that one: replay sends it
    expected = {str(gone.id): "failed"} | {str(e.id): "delivered" for e in while_disabled}

    async def recorded() -> bool:
        found = await deliveries(notifier, subscription["id"])
        return {d["event_id"]: d["status"] for d in found} == expected

    await eventually(recorded, within=15)
    assert receiver.count() == 7  # and nothing more was sent


async def test_the_catalogue_lists_agencies_their_services_and_event_types_with_samples(
    notifier: httpx.AsyncClient,
) -> None:
    headers = session_issuer().headers("agency", agency=AGENCY)

    agencies = (await notifier.get("/v1/agencies", headers=headers)).json()
    services = (await notifier.get(f"/v1/agencies/{AGENCY}/services", headers=headers)).json()
    types = (await notifier.get("/v1/event-types", headers=headers)).json()
    unknown = await notifier.get("/v1/agencies/bpjs/services", headers=headers)

    assert {"slug": AGENCY, "name": "BPJS Kesehatan"} in agencies
    assert services and all(s["code"].startswith(f"{AGENCY}-") for s in services)
    body = assert_problem(unknown, 404, "agency-not-found")
    assert AGENCY in body["valid"] and AGENCY in body["detail"]
    completed = next(t for t in types if t["type"] == COMPLETED)
    assert completed["subject"] == "botram.service.completed.v1.{agency}.{service}"
    assert completed["sample"]["type"] == COMPLETED
    assert not any(t["type"].startswith("botram.citizen.") for t in types)
    schema = await notifier.get(completed["schema_url"], headers=headers)
    assert schema.status_code == 200
    jsonschema.validate(
        completed["sample"], schema.json(), format_checker=jsonschema.FormatChecker()
    )
    private = await notifier.get("/v1/schemas/botram.citizen.contact_shared.v1", headers=headers)
    assert private.status_code == 404


@pytest.mark.parametrize(
    ("body", "code", "listed"),
    [
        ({"agency": "bpjs"}, "unknown-agency", "bpjs-kesehatan"),
        ({"services": ["bpjs-kesehatan-x"]}, "unknown-service", "bpjs-kesehatan-pendaftaran"),
        ({"event_types": ["botram.x.v1"]}, "unknown-event-type", COMPLETED),
    ],
)
async def test_a_refused_subscription_lists_the_valid_values(
    notifier: httpx.AsyncClient, body: dict[str, Any], code: str, listed: str
) -> None:
    response = await notifier.post(
        "/v1/subscriptions",
        json={"url": "http://127.0.0.1:9/", "event_types": [COMPLETED]} | body,
        headers=session_issuer().headers("agency", agency=AGENCY)
        | ({} if "agency" not in body else session_issuer().headers("operator")),
    )

    problem = assert_problem(response, 422, code)
    assert listed in problem["valid"] and listed in problem["detail"]


async def test_the_sandbox_sends_a_signed_sample_as_structured_cloudevents(
    notifier: httpx.AsyncClient, receiver: Receiver
) -> None:
    subscription = await subscribe(notifier, receiver.url)
    headers = session_issuer().headers("agency", agency=AGENCY)
    path = f"/v1/subscriptions/{subscription['id']}/test"

    sent = await notifier.post(path, headers=headers)
    ticket = await notifier.post(
        path, json={"event_type": "botram.ticket.called.v1"}, headers=headers
    )
    refused = await notifier.post(path, json={"event_type": "botram.x.v1"}, headers=headers)

    assert sent.status_code == 200 and sent.json()["delivered"] is True, sent.text
    assert ticket.json()["delivered"] is True
    assert COMPLETED in assert_problem(refused, 422, "unknown-event-type")["valid"]
    first, second = receiver.requests
    assert first.headers["content-type"].startswith("application/cloudevents+json")
    assert first.headers["user-agent"].startswith("Botram-Webhooks/")
    event = Webhook(subscription["secret"]).verify(first.body, first.headers)
    assert event["type"] == COMPLETED and event["sandbox"] is True
    assert event["id"] == sent.json()["event_id"] == first.headers["webhook-id"]
    assert second.json()["data"]["agency"] == AGENCY
    assert await deliveries(notifier, subscription["id"]) == []  # no delivery recorded


async def test_deliveries_are_listed_newest_first_a_page_at_a_time_with_a_cursor(
    notifier: httpx.AsyncClient, nc: NatsClient, receiver: Receiver, completed: Completed
) -> None:
    subscription = await subscribe(notifier, receiver.url)
    published = []
    for n in range(5):  # one after the other: their deliveries are created in this order
        published.append(await publish_event(nc, completed(ticket_id=f"t-{n}"), "registry"))

        async def staged(count: int = n + 1) -> bool:
            return len(await deliveries(notifier, subscription["id"])) == count

        await eventually(staged, within=15)

    seen: list[str] = []
    url: str | None = f"/v1/subscriptions/{subscription['id']}/deliveries?limit=2"
    pages = 0
    while url is not None and pages < 10:
        response = await notifier.get(url)
        assert response.status_code == 200, response.text
        seen += [d["event_id"] for d in response.json()]
        url = response.links.get("next", {}).get("url")
        pages += 1

    assert pages == 3
    assert seen == [str(e.id) for e in reversed(published)]  # newest first, each once
    forged = await notifier.get(
        f"/v1/subscriptions/{subscription['id']}/deliveries", params={"cursor": "bm9wZQ"}
    )
    assert_problem(forged, 422, "invalid-cursor")
    metrics = (await notifier.get("/metrics")).text
    # Consumption is counted by consumer and event type (botram_runtime's pull loops), never
    # by subject: no agency in a label.
    consumed = [line for line in metrics.splitlines() if line.startswith("botram_events_")]
    assert any(
        'consumer="notifier-services"' in line and 'type="botram.service.completed.v1"' in line
        for line in consumed
    ), consumed
    assert not any("bpjs" in line for line in consumed), consumed
