"""End to end through the real processes that `make up` starts (`botram up`), over HTTP.

The flow of the foundation issue: create a kecamatan session at Sukatani for today, open it,
check a citizen in for two services, call one, complete it as served; reporting's /metrics
counts one check-in and one completed service. A tap on `botram.>` sees every public event.
"""

import re
import signal

import httpx
import nats
import pytest

from botram_contracts.events import decode_event
from botram_runtime.clock import local_today, system_clock
from helpers import System, eventually

pytestmark = pytest.mark.e2e

NIK = "3216054507900001"
NAME = "Siti Aminah"
SERVICES = ("scheduler", "registry", "notifier", "reporting")


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        sample_labels = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(sample_labels.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_the_walking_skeleton_flows_end_to_end_without_personal_data(system: System) -> None:
    tapped: list[tuple[str, bytes]] = []
    # The operator's NATS user (`botram up` admits no anonymous client): it reads every
    # public subject and never a private one.
    tap = await nats.connect(system.nats_url, nkeys_seed_str=system.nats_seed("ops"))

    async def record(message: nats.aio.msg.Msg) -> None:
        tapped.append((message.subject, message.data))

    await tap.subscribe("botram.>", cb=record)
    urls = system.urls
    staff = system.headers("operator", "front-desk")
    desk = system.headers("desk", agency="dukcapil")
    async with httpx.AsyncClient(timeout=10, headers=staff) as http:
        for name in SERVICES:
            assert (await http.get(f"{urls[name]}/readyz")).status_code == 200
        before = (await http.get(f"{urls['reporting']}/metrics")).text
        today = local_today(system_clock).isoformat()

        created = await http.post(
            f"{urls['scheduler']}/v1/sessions",
            json={"level": "kecamatan", "kecamatan": "Sukatani", "date": today},
        )
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]
        opened = await http.post(f"{urls['scheduler']}/v1/sessions/{session_id}/open")
        assert opened.json()["status"] == "opened"

        async def check_in() -> httpx.Response | None:
            response = await http.post(
                f"{urls['registry']}/v1/sessions/{session_id}/check-ins",
                json={"nik": NIK, "name": NAME, "services": ["dukcapil-kk", "dukcapil-kia"]},
            )
            return response if response.status_code == 201 else None

        # The registry learns of the opening from the bus, a moment after the scheduler.
        checked_in = await eventually(check_in, within=20, interval=0.2)
        assert len(checked_in.json()["tickets"]) == 2
        called = await http.post(
            f"{urls['registry']}/v1/sessions/{session_id}/services/dukcapil-kk/call-next",
            json={"desk": "meja-1"},
            headers=desk,
        )
        assert called.status_code == 200, called.text
        completed = await http.post(
            f"{urls['registry']}/v1/tickets/{called.json()['ticket_id']}/complete",
            json={"outcome": "served"},
            headers=desk,
        )
        assert completed.json()["status"] == "completed"

        async def counted() -> str | None:
            text = (await http.get(f"{urls['reporting']}/metrics")).text
            done = metric(text, "botram_services_completed_total", outcome="served")
            return text if done == metric(before, "botram_services_completed_total") + 1 else None

        after = await eventually(counted, within=20, interval=0.2)

    assert metric(after, "botram_checkins_total", level="kecamatan", kecamatan="sukatani") == (
        metric(before, "botram_checkins_total", level="kecamatan", kecamatan="sukatani") + 1
    )
    await tap.drain()
    types = [decode_event(data).type for subject, data in tapped]
    assert types == [
        "botram.session.scheduled.v1",
        "botram.session.opened.v1",
        "botram.citizen.checked_in.v1",
        "botram.ticket.called.v1",
        "botram.service.completed.v1",
    ]
    for subject, data in tapped:
        for secret in (NIK, NAME, "Siti", "Aminah"):
            assert secret not in data.decode() and secret not in subject


async def test_the_bus_admits_no_anonymous_client_and_no_forged_event(system: System) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(system.nats_url, allow_reconnect=False, connect_timeout=5)

    errors: list[str] = []

    async def on_error(error: Exception) -> None:
        errors.append(str(error))

    registry = await nats.connect(
        system.nats_url,
        nkeys_seed_str=system.nats_seed("registry"),
        inbox_prefix="_INBOX_botram_registry",
        error_cb=on_error,
    )
    try:
        await registry.publish("botram.session.cancelled.v1.kecamatan.sukatani", b"{}")
        await registry.flush()
        await eventually(lambda: any("permissions violation" in e.lower() for e in errors))
    finally:
        await registry.close()


def test_ctrl_c_stops_every_process_cleanly(system: System) -> None:
    system.process.send_signal(signal.SIGINT)

    assert system.process.wait(timeout=30) == 0
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{system.urls['registry']}/healthz", timeout=2)
