"""After a served ticket, a citizen who shared a phone gets one SMS linking to the ticket's
status page, where the satisfaction survey waits; not after a referral, not without a link."""

from typing import Any

from nats.aio.client import Client as NatsClient

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.events import CitizenContactSharedV1, ServiceCompletedV1, TicketRef
from botram_notifier.main import create_app
from botram_notifier.settings import Settings
from helpers import consumed, eventually, publish_event, running

PHONE = "081234567890"
LINK = "https://botram.example/t/AbCdEfGhIjKlMnOpQrStUv"


def ticket(n: int) -> TicketRef:
    return TicketRef(
        ticket_id=f"t-{n}", service="dukcapil-kk", agency="dukcapil", number=f"KK-00{n}", position=n
    )


def completed(n: int, outcome: str) -> ServiceCompletedV1:
    return ServiceCompletedV1(
        ticket_id=f"t-{n}",
        session_id="s-1",
        service="dukcapil-kk",
        agency="dukcapil",
        check_in_id=f"c-{n}",
        citizen="a" * 64,
        outcome=outcome,  # type: ignore[arg-type]  # a str of the Outcome vocabulary
        waited_seconds=60,
        service_seconds=120,
    )


async def test_a_served_citizen_is_invited_to_the_survey_once_by_the_tickets_link(
    nats_server: EmbeddedNatsServer, nc: NatsClient, database_url: str, gateway: Any
) -> None:
    settings = Settings(
        nats_url=nats_server.url,
        database_url=database_url,
        sms_poll_seconds=0.1,
        sms_provider="http",
        sms_gateway_url=gateway.url,
    )
    async with running(create_app(settings)):
        for n, link in ((1, LINK), (2, LINK + "2"), (3, None)):
            links = {f"t-{n}": link} if link else None
            contact = CitizenContactSharedV1(
                check_in_id=f"c-{n}",
                session_id="s-1",
                phone=PHONE[:-1] + str(n),
                tickets=[ticket(n)],
                status_links=links,
            )
            await publish_event(nc, contact, "registry")
        await consumed(nc, "notifier", "notifier-private")
        served = await publish_event(nc, completed(1, "served"), "registry")
        await publish_event(nc, served.data, "registry")  # published again: one message
        await publish_event(nc, completed(2, "referred"), "registry")
        await publish_event(nc, completed(3, "served"), "registry")  # no link: no message
        await consumed(nc, "notifier", "notifier-services")
        await eventually(lambda: gateway.count() >= 4)  # three tickets issued, one invitation

    invitations = [r.json() for r in gateway.requests if "survei" in r.json()["text"]]
    assert len(invitations) == 1 and gateway.count() == 4
    (invitation,) = invitations
    assert invitation["to"] == PHONE[:-1] + "1"
    assert invitation["text"] == (
        "Botram Kab. Bekasi: terima kasih telah menggunakan layanan Kartu Keluarga (KK). Mohon "
        f"isi survei kepuasan masyarakat (tanpa nama, 9 pertanyaan, sekali saja): {LINK}"
    )
