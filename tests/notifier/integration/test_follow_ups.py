"""An agency's follow-up (a document ready) in the notifier, on a real nats-server: the
citizen gets exactly one message naming the place, and the public event reaches the webhook
subscribers of that agency and service only."""

from datetime import UTC, date, datetime
from typing import Any

import httpx
from nats.aio.client import Client as NatsClient
from sqlmodel import select

from botram_contracts.events import CitizenFollowUpSharedV1, ServiceFollowedUpV1
from botram_notifier.store import CitizenMessageRow
from botram_runtime.db import Database
from helpers import eventually, publish_event, session_issuer

PHONE = "081234567890"
PLACE = "Kantor Disdukcapil Cikarang, loket 3"
FOLLOWED_UP = "botram.service.followed_up.v1"
Receiver = Any  # the `receiver` and `gateway` fixtures (tests/notifier/conftest.py)


def shared(**overrides: Any) -> CitizenFollowUpSharedV1:
    values: dict[str, Any] = dict(
        follow_up_id="f-1",
        ticket_id="t-1",
        check_in_id="c-1",
        session_id="s-1",
        service="dukcapil-kk",
        number="KK-007",
        phone=PHONE,
        kind="document_ready",
        place=PLACE,
        until=date(2026, 12, 19),
        note="Bawa bukti pendaftaran.",
        status_link="https://botram.test/t/abc",
    )
    return CitizenFollowUpSharedV1(**(values | overrides))


def followed_up(service: str = "dukcapil-kk", agency: str = "dukcapil") -> ServiceFollowedUpV1:
    return ServiceFollowedUpV1(
        ticket_id="t-1",
        session_id="s-1",
        service=service,
        agency=agency,
        follow_up_id="f-1",
        kind="document_ready",
        place=PLACE,
        outcome="served",
        followed_up_at=datetime(2026, 12, 8, 3, tzinfo=UTC),
        seconds_since_completion=3 * 86400,
    )


async def test_the_citizen_is_texted_once_where_to_collect_the_document_then_forgotten(
    start: Any, nc: NatsClient, gateway: Receiver, database_url: str
) -> None:
    async with start(sms_provider="http", sms_gateway_url=gateway.url, sms_poll_seconds=0.1):
        await publish_event(nc, shared(), "registry")
        await publish_event(nc, followed_up(), "registry")
        await publish_event(nc, shared(), "registry")  # published again: the same follow-up
        await eventually(lambda: gateway.count() >= 1)

        async def phone_forgotten() -> bool:
            database = Database(database_url)
            try:
                async with database.session() as tx:
                    rows = (await tx.exec(select(CitizenMessageRow))).all()
            finally:
                await database.dispose()
            return len(rows) == 1 and rows[0].status == "sent" and rows[0].phone is None

        await eventually(phone_forgotten)

    [message] = [r.json() for r in gateway.requests]
    assert message["to"] == PHONE
    assert message["text"] == (
        "Botram Kab. Bekasi: dokumen layanan Kartu Keluarga (KK) (nomor KK-007) sudah siap. "
        f"Silakan ambil di {PLACE} paling lambat 19 Desember 2026. Bawa bukti pendaftaran. "
        "Info: https://botram.test/t/abc"
    )


async def subscribe(
    notifier: httpx.AsyncClient, url: str, agency: str, **extra: Any
) -> dict[str, Any]:
    response = await notifier.post(
        "/v1/subscriptions",
        json={"url": url, "event_types": [FOLLOWED_UP]} | extra,
        headers=session_issuer().headers("agency", agency=agency),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def deliveries(notifier: httpx.AsyncClient, subscription: dict[str, Any]) -> list[Any]:
    response = await notifier.get(f"/v1/subscriptions/{subscription['id']}/deliveries")
    assert response.status_code == 200, response.text
    found: list[Any] = response.json()
    return found


async def test_a_follow_up_reaches_the_agencys_subscribers_of_that_service_only(
    notifier: httpx.AsyncClient, nc: NatsClient, receiver: Receiver
) -> None:
    kk = await subscribe(notifier, receiver.url + "/kk", "dukcapil", services=["dukcapil-kk"])
    every = await subscribe(notifier, receiver.url + "/all", "dukcapil")
    akta = await subscribe(
        notifier, receiver.url + "/akta", "dukcapil", services=["dukcapil-akta-kelahiran"]
    )
    bpjs = await subscribe(notifier, receiver.url + "/bpjs", "bpjs-kesehatan")
    completed_only = await subscribe(
        notifier, receiver.url + "/done", "dukcapil", event_types=["botram.service.completed.v1"]
    )

    event = await publish_event(nc, followed_up(), "registry")

    async def both_delivered() -> bool:
        found = [await deliveries(notifier, s) for s in (kk, every)]
        return all(len(d) == 1 and d[0]["status"] == "delivered" for d in found)

    await eventually(both_delivered, within=15)
    # The fan-out staged every subscription's delivery in one transaction: none is to come.
    for other in (akta, bpjs, completed_only):
        assert await deliveries(notifier, other) == []
    assert sorted(r.path for r in receiver.requests) == ["/all", "/kk"]
    for received in receiver.requests:
        body = received.json()
        assert (body["id"], body["type"]) == (str(event.id), FOLLOWED_UP)
        assert body["data"]["place"] == PLACE and PHONE not in received.body.decode()
