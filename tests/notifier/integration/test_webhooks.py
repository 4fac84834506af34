"""Notifier webhooks on a real nats-server and a real HTTP receiver on 127.0.0.1."""

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from standardwebhooks import Webhook

from botram_contracts.events import (
    MSG_ID_HEADER,
    ServiceCompletedV1,
    TicketCalledV1,
    encode_event,
    make_event,
)
from botram_notifier.adapters.webhook_sender import WebhookSender
from botram_runtime.bus import DLQ_REASON_HEADER
from helpers import assert_problem, eventually, publish_event, session_issuer

COMPLETED = "botram.service.completed.v1"
CALLED = "botram.ticket.called.v1"

Start = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
Receiver = Any  # the `receiver` fixture (tests/notifier/conftest.py)
Completed = Callable[..., ServiceCompletedV1]
Called = Callable[..., TicketCalledV1]


async def subscribe(
    client: httpx.AsyncClient,
    url: str,
    agency: str = "bpjs-kesehatan",
    event_types: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The agency subscribes for itself, with its own token (operations run as staff)."""
    response = await client.post(
        "/v1/subscriptions",
        json={"agency": agency, "url": url, "event_types": event_types or [COMPLETED]} | extra,
        headers=session_issuer().headers("agency", agency=agency),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def deliveries(
    client: httpx.AsyncClient, subscription_id: str, status: str | None = None
) -> list[dict[str, Any]]:
    params = {"status": status} if status else {}
    response = await client.get(f"/v1/subscriptions/{subscription_id}/deliveries", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def settled(client: httpx.AsyncClient, subscription_id: str, count: int = 1) -> list[Any]:
    """Wait until `count` deliveries exist and none is pending any more."""

    async def done() -> list[dict[str, Any]] | None:
        found = await deliveries(client, subscription_id)
        if len(found) == count and all(d["status"] != "pending" for d in found):
            return found
        return None

    result: list[Any] = await eventually(done, within=15)
    return result


def verify(secret: str, received: Any) -> Any:
    return Webhook(secret).verify(received.body, received.headers)


# --- delivery ------------------------------------------------------------------------------


async def test_endpoint_failing_three_times_gets_the_event_once_after_four_logged_attempts(
    notifier: httpx.AsyncClient,
    nc: NatsClient,
    receiver: Receiver,
    completed: Completed,
) -> None:
    receiver.answer(500, 503, 429)
    subscription = await subscribe(notifier, receiver.url + "/hooks")
    event = await publish_event(nc, completed(), "registry")

    (delivery,) = await settled(notifier, subscription["id"])

    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 4
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 503, 429, 200]
    assert [a["outcome"] for a in delivery["attempt_log"]] == ["retry"] * 3 + ["delivered"]
    assert all(a["latency_ms"] >= 0 for a in delivery["attempt_log"])
    assert receiver.count() == 4
    for received in receiver.requests:
        assert received.path == "/hooks"
        assert received.headers["webhook-id"] == str(event.id)
        assert verify(subscription["secret"], received)["id"] == str(event.id)
    assert receiver.requests[-1].json()["type"] == COMPLETED
    assert subscription["secret"].startswith("whsec_")


async def test_a_redelivered_event_never_becomes_a_second_delivery(
    notifier: httpx.AsyncClient,
    nc: NatsClient,
    receiver: Receiver,
    completed: Completed,
) -> None:
    subscription = await subscribe(notifier, receiver.url)
    event = make_event(completed(), "registry")
    # Twice on the bus with different message ids: the stream's duplicate window lets it in.
    for msg_id in (f"{event.id}-first", f"{event.id}-second"):
        await nc.jetstream().publish(
            event.subject, encode_event(event), headers={MSG_ID_HEADER: msg_id}
        )
    await publish_event(nc, completed(ticket_id="t-2"), "registry")

    found = await settled(notifier, subscription["id"], count=2)

    assert sorted(d["event_id"] for d in found).count(str(event.id)) == 1
    assert receiver.count() == 2


async def test_the_event_is_forwarded_byte_for_byte_with_fields_this_version_does_not_know(
    notifier: httpx.AsyncClient,
    nc: NatsClient,
    receiver: Receiver,
    completed: Completed,
) -> None:
    subscription = await subscribe(notifier, receiver.url)
    event = make_event(completed(), "registry")
    document = json.loads(encode_event(event))
    document["data"]["desk_photo"] = "added in a later v1"
    raw = json.dumps(document, separators=(", ", ": ")).encode()
    await nc.jetstream().publish(event.subject, raw, headers={MSG_ID_HEADER: str(event.id)})

    (delivery,) = await settled(notifier, subscription["id"])
    (received,) = receiver.requests

    assert delivery["status"] == "delivered"
    assert received.body == raw
    assert delivery["event"]["data"]["desk_photo"] == "added in a later v1"


async def test_only_the_agencys_own_events_of_the_subscribed_types_are_delivered(
    notifier: httpx.AsyncClient,
    nc: NatsClient,
    receiver: Receiver,
    completed: Completed,
    called: Called,
) -> None:
    own = await subscribe(
        notifier, receiver.url, services=["bpjs-kesehatan-pendaftaran"], event_types=[COMPLETED]
    )
    await publish_event(
        nc, completed(service="dukcapil-kk", agency="dukcapil", ticket_id="x"), "registry"
    )
    await publish_event(
        nc, completed(service="bpjs-kesehatan-perubahan-data", ticket_id="y"), "registry"
    )
    await publish_event(
        nc,
        called("z", "BPJ-001", service="bpjs-kesehatan-pendaftaran", agency="bpjs-kesehatan"),
        "registry",
    )
    wanted = await publish_event(nc, completed(ticket_id="w"), "registry")

    (delivery,) = await settled(notifier, own["id"])

    assert delivery["event_id"] == str(wanted.id)
    assert receiver.count() == 1


async def test_410_gone_disables_the_subscription(
    notifier: httpx.AsyncClient,
    nc: NatsClient,
    receiver: Receiver,
    completed: Completed,
) -> None:
    receiver.answer(410)
    subscription = await subscribe(notifier, receiver.url)
    await publish_event(nc, completed(), "registry")

    (delivery,) = await settled(notifier, subscription["id"])
    state = (await notifier.get(f"/v1/subscriptions/{subscription['id']}")).json()

    assert delivery["status"] == "failed" and delivery["attempts"] == 1
    assert state["enabled"] is False and "410" in state["disabled_reason"]
    metrics = (await notifier.get("/metrics")).text
    auto_disabled = "botram_webhook_subscriptions_auto_disabled_total"
    assert f'{auto_disabled}{{agency="bpjs-kesehatan",reason="gone"}} 1.0' in metrics
    await publish_event(nc, completed(ticket_id="t-2"), "registry")
    retry = await notifier.post(f"/v1/deliveries/{delivery['id']}/retry")
    assert_problem(retry, 409, "subscription-disabled")


async def test_other_4xx_fails_at_once_without_retry(
    notifier: httpx.AsyncClient,
    nc: NatsClient,
    receiver: Receiver,
    completed: Completed,
) -> None:
    receiver.answer(400)
    subscription = await subscribe(notifier, receiver.url)
    await publish_event(nc, completed(), "registry")

    (delivery,) = await settled(notifier, subscription["id"])

    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "failed",
        1,
        400,
    )
    assert (await notifier.get(f"/v1/subscriptions/{subscription['id']}")).json()["enabled"]


async def test_a_redirect_is_not_followed(
    notifier: httpx.AsyncClient,
    nc: NatsClient,
    receiver: Receiver,
    completed: Completed,
) -> None:
    receiver.answer(302, headers={"location": receiver.url + "/elsewhere"})
    subscription = await subscribe(notifier, receiver.url + "/hook")
    await publish_event(nc, completed(), "registry")

    (delivery,) = await settled(notifier, subscription["id"])

    assert delivery["status"] == "failed"
    assert [r.path for r in receiver.requests] == ["/hook"]


async def test_a_dead_lettered_delivery_is_replayed_one_by_one_and_in_bulk(
    start: Start,
    nc: NatsClient,
    receiver: Receiver,
    completed: Completed,
) -> None:
    receiver.answer(500, 500, 500, 500)
    async with start(notifier_retry_schedule="0.1") as notifier:
        subscription = await subscribe(notifier, receiver.url)
        await publish_event(nc, completed(ticket_id="a"), "registry")
        await publish_event(nc, completed(ticket_id="b"), "registry")
        await settled(notifier, subscription["id"], count=2)

        dead = await deliveries(notifier, subscription["id"], status="failed")
        assert len(dead) == 2 and all(d["attempts"] == 2 for d in dead)
        assert await deliveries(notifier, subscription["id"], status="delivered") == []

        retried = await notifier.post(f"/v1/deliveries/{dead[0]['id']}/retry")
        assert retried.status_code == 202
        await settled(notifier, subscription["id"], count=2)
        assert len(await deliveries(notifier, subscription["id"], status="delivered")) == 1

        replay = await notifier.post(
            f"/v1/subscriptions/{subscription['id']}/replay",
            json={"since": "2000-01-01T00:00:00Z"},
        )
        assert replay.json() == {"replayed": 1}
        found = await settled(notifier, subscription["id"], count=2)

    assert all(d["status"] == "delivered" for d in found)
    assert sorted(d["attempts"] for d in found) == [3, 3]
    assert receiver.count() == 6


async def test_a_notifier_stopped_mid_retry_delivers_after_restart(
    start: Start,
    nc: NatsClient,
    receiver: Receiver,
    completed: Completed,
) -> None:
    receiver.answer(503)
    # A retry far enough away that it is still pending when the first notifier stops.
    async with start(notifier_retry_schedule="2") as notifier:
        subscription = await subscribe(notifier, receiver.url)
        await publish_event(nc, completed(), "registry")

        async def first_attempt_failed() -> bool:
            found = await deliveries(notifier, subscription["id"])
            return bool(found) and found[0]["attempts"] == 1

        await eventually(first_attempt_failed)
    assert receiver.count() == 1

    async with start(notifier_retry_schedule="2") as notifier:
        (delivery,) = await settled(notifier, subscription["id"])

    assert delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempt_log"]] == [503, 200]
    assert receiver.count() == 2


async def test_after_a_secret_rotation_both_secrets_sign_during_the_overlap(
    notifier: httpx.AsyncClient,
    nc: NatsClient,
    receiver: Receiver,
    completed: Completed,
) -> None:
    subscription = await subscribe(notifier, receiver.url)
    rotated = (await notifier.post(f"/v1/subscriptions/{subscription['id']}/rotate-secret")).json()
    await publish_event(nc, completed(), "registry")

    await settled(notifier, subscription["id"])
    (received,) = receiver.requests

    assert rotated["secret"] != subscription["secret"]
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    verify(subscription["secret"], received)
    verify(rotated["secret"], received)


async def test_metrics_count_deliveries_by_agency_and_outcome(
    notifier: httpx.AsyncClient,
    nc: NatsClient,
    receiver: Receiver,
    completed: Completed,
) -> None:
    receiver.answer(500)
    subscription = await subscribe(notifier, receiver.url)
    await publish_event(nc, completed(), "registry")
    await settled(notifier, subscription["id"])

    async def backlog_gauge_updated() -> str:
        # The worker refreshes the backlog gauges on its next poll after the delivery.
        text = (await notifier.get("/metrics")).text
        return text if "botram_webhook_pending 0.0" in text else ""

    metrics = await eventually(backlog_gauge_updated)

    assert 'botram_webhook_deliveries_total{agency="bpjs-kesehatan",outcome="retry"} 1.0' in metrics
    assert (
        'botram_webhook_deliveries_total{agency="bpjs-kesehatan",outcome="delivered"} 1.0'
        in metrics
    )
    assert 'botram_webhook_delivery_seconds_count{agency="bpjs-kesehatan"} 2.0' in metrics
    assert "botram_webhook_pending 0.0" in metrics
    assert "botram_webhook_subscriptions_disabled 0.0" in metrics


async def test_a_malformed_event_goes_to_the_dead_letter_subject_with_the_reason(
    notifier: httpx.AsyncClient, nc: NatsClient
) -> None:
    subscription = await nc.subscribe("botram.dlq.notifier")
    await nc.jetstream().publish("botram.ticket.called.v1.dukcapil.dukcapil-kk", b"{not json")

    message = await subscription.next_msg(timeout=10)

    assert message.data == b"{not json"
    assert message.headers and message.headers[DLQ_REASON_HEADER]


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"agency": "kpu"}, 422, "unknown-agency"),
        ({"event_types": ["botram.ticket.teleported.v1"]}, 422, "unknown-event-type"),
        ({"event_types": []}, 422, "invalid-request"),  # the schema says minItems 1
        ({"event_types": ["botram.citizen.checked_in.v1"]}, 403, "event-type-forbidden"),
        ({"event_types": ["botram.citizen.contact_shared.v1"]}, 403, "event-type-forbidden"),
        ({"event_types": ["botram.demand.ranked.v1"]}, 403, "event-type-forbidden"),
        ({"services": ["baznas-zakat-infak-sedekah"]}, 403, "service-of-another-agency"),
        ({"services": ["bpjs-kesehatan-teleportasi"]}, 422, "unknown-service"),
        ({"url": "ftp://example.org/hook"}, 422, "invalid-url"),
        ({"url": "not a url"}, 422, "invalid-url"),
        ({"url": "https://user:pw@example.org/hook"}, 422, "invalid-url"),
    ],
)
async def test_a_bad_subscription_is_refused_with_a_clear_problem(
    notifier: httpx.AsyncClient, body: dict[str, Any], status: int, code: str
) -> None:
    request = {
        "agency": "bpjs-kesehatan",
        "url": "http://127.0.0.1:9/hook",
        "event_types": [COMPLETED],
    } | body

    response = await notifier.post("/v1/subscriptions", json=request)

    assert_problem(response, status, code)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[fd00:ec2::254]/hook",
    ],
)
async def test_with_the_ssrf_guard_on_internal_urls_are_refused(start: Start, url: str) -> None:
    async with start(webhook_allow_internal_urls=False) as notifier:
        response = await notifier.post(
            "/v1/subscriptions",
            json={"agency": "baznas", "url": url, "event_types": [COMPLETED]},
        )

    assert_problem(response, 422, "forbidden-url")


async def test_the_ssrf_guard_checks_again_at_delivery_and_sends_nothing(
    receiver: Receiver,
) -> None:
    sender = WebhookSender(timeout=2, ssrf_guard=True)
    try:
        result = await sender.post(receiver.url, b"{}", {})
    finally:
        await sender.close()

    assert result.status_code is None and "loopback" in (result.error or "")
    assert receiver.count() == 0


async def test_secrets_are_never_listed_again(
    notifier: httpx.AsyncClient, receiver: Receiver
) -> None:
    subscription = await subscribe(notifier, receiver.url)

    listed = (await notifier.get("/v1/subscriptions", params={"agency": "bpjs-kesehatan"})).json()

    assert [s["id"] for s in listed] == [subscription["id"]]
    assert "secret" not in json.dumps(listed)


async def test_a_subscription_failing_continuously_is_disabled_and_its_delivery_parked(
    start: Start,
    nc: NatsClient,
    receiver: Receiver,
    completed: Completed,
) -> None:
    receiver.answer(*[500] * 20)
    async with start(
        notifier_retry_schedule="0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1",
        webhook_auto_disable_after_seconds=0.25,
    ) as notifier:
        subscription = await subscribe(notifier, receiver.url)
        await publish_event(nc, completed(), "registry")

        (delivery,) = await settled(notifier, subscription["id"])
        state = (await notifier.get(f"/v1/subscriptions/{subscription['id']}")).json()
        metrics = (await notifier.get("/metrics")).text

    assert state["enabled"] is False and state["disabled_reason"] == "failing continuously"
    assert delivery["status"] == "failed"
    assert delivery["attempt_log"][-1]["error"] == "subscription disabled"
    assert receiver.count() < 9  # stopped before the schedule ran out
    auto_disabled = "botram_webhook_subscriptions_auto_disabled_total"
    assert f'{auto_disabled}{{agency="bpjs-kesehatan",reason="failing"}} 1.0' in metrics
