"""A village desk that syncs late, end to end over HTTP on a real bus: the scheduler, the
registry, the notifier and reporting, sharing one simulated clock.

Desa Ciantra's session opens on Tuesday morning; the desk loses its connection after one
online check-in; the scheduler closes the session at 13:00; the desk's tablet uploads its
check-ins, calls, outcomes and no-shows 30 hours later. Reporting counts them on Tuesday
(never on the upload's day), and nobody gets a text about a call that happened a day ago.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from nats.aio.client import Client as NatsClient
from sqlmodel import select

from botram_notifier.store import CitizenMessageRow
from botram_runtime.clock import JAKARTA
from botram_runtime.db import Database
from helpers import FakeClock, LiveService, eventually, session_issuer

KK = "dukcapil-kk"
NIK = "3216050101900{:03d}"
TUESDAY = "2026-12-01"
PHONE = "081234567890"


def at(hour: int, minute: int = 0) -> str:
    """A time on Tuesday as the tablet records it (WIB, with its offset)."""
    return datetime(2026, 12, 1, hour, minute, tzinfo=JAKARTA).isoformat()


def check_in(client_id: str, n: int, recorded_at: str, **more: Any) -> dict[str, Any]:
    return {
        "kind": "check_in",
        "client_id": client_id,
        "recorded_at": recorded_at,
        "nik": NIK.format(n),
        "name": "Warga Ciantra",
        "services": [KK],
    } | more


def desk(kind: str, client_id: str, recorded_at: str, **more: Any) -> dict[str, Any]:
    return {"kind": kind, "client_id": client_id, "recorded_at": recorded_at, "desk": "1"} | more


async def test_a_village_desk_uploading_30_hours_after_the_close_is_counted_on_its_day(
    serve: Callable[..., LiveService],
    tmp_path: Path,
    nc: NatsClient,  # the shared bus's streams, emptied of earlier tests' events
) -> None:
    clock = FakeClock(datetime(2026, 12, 1, 0, 30, tzinfo=UTC))  # Tuesday 07:30 WIB
    scheduler = serve("scheduler", clock=clock, auto_lifecycle=False, outbox_poll_seconds=0.1)
    registry = serve("registry", clock=clock, outbox_poll_seconds=0.1)
    notifier = serve("notifier", clock=clock, sms_poll_seconds=0.1)
    reporting = serve(
        "reporting", clock=clock, reporting_batch_size=50, reporting_batch_timeout_seconds=0.1
    )
    staff = session_issuer().headers("operator", "planner", "front-desk", "viewer")
    async with httpx.AsyncClient(timeout=15, headers=staff) as http:
        created = await http.post(
            f"{scheduler.url}/v1/sessions",
            json={
                "level": "desa",
                "kecamatan": "Cikarang Selatan",
                "desa": "Ciantra",
                "date": TUESDAY,
                "services": [KK],
            },
        )
        assert created.status_code == 201, created.text
        session = created.json()["id"]
        await http.post(f"{scheduler.url}/v1/sessions/{session}/open")

        async def online_check_in() -> httpx.Response | None:
            response = await http.post(
                f"{registry.url}/v1/sessions/{session}/check-ins",
                json={
                    "nik": NIK.format(1),
                    "name": "Warga Ciantra",
                    "services": [KK],
                    "phone": PHONE,
                },
            )
            return response if response.status_code == 201 else None

        # 08:00: one citizen checks in online (with a phone), then the connection drops.
        clock.now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
        online = await eventually(online_check_in, within=20, interval=0.2)
        # 13:00: the scheduler closes the session; the online ticket, still waiting in the
        # registry's eyes, expires.
        clock.now = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
        await http.post(f"{scheduler.url}/v1/sessions/{session}/close")

        async def closed() -> bool:
            queue = await http.get(f"{registry.url}/v1/sessions/{session}/queue")
            return queue.json()["status"] == "closed"

        await eventually(closed, within=20, interval=0.2)

        async def tuesday_texts() -> str | None:
            # The online citizen's number when issued, and that it expired at the close.
            counters = await _citizen_messages(http, notifier)
            return counters if 'kind="tickets_expired"' in counters else None

        messages_before = await eventually(tuesday_texts, within=20, interval=0.2)
        queued_before = await _messages(tmp_path / "notifier.db")

        # Wednesday 19:00: the tablet is back online and uploads the day's work.
        clock.advance(30 * 3600)
        uploaded = await http.post(
            f"{registry.url}/v1/sessions/{session}/check-ins:batch",
            json={
                "device_id": "tablet-ciantra",
                "items": [
                    desk("call", "a-1", at(8, 30), number="KK-001"),
                    desk("outcome", "a-2", at(8, 50), number="KK-001", outcome="served"),
                    check_in("c-2", 2, at(9, 10), phone="081298765432"),
                    check_in("c-3", 3, at(10, 20)),
                    desk("call", "a-3", at(9, 40), check_in="c-2"),
                    desk("outcome", "a-4", at(10, 0), check_in="c-2", outcome="referred"),
                    desk("call", "a-5", at(10, 30), check_in="c-3"),
                    desk("no_show", "a-6", at(10, 40), check_in="c-3"),
                    desk("outcome", "a-7", at(10, 45), check_in="c-3", outcome="served"),
                ],
            },
        )

        assert uploaded.status_code == 200, uploaded.text
        assert [r["result"] for r in uploaded.json()["results"]] == [
            *("applied", "applied", "created", "created"),
            *("applied", "applied", "applied", "applied", "conflict"),
        ]

        async def tuesday() -> dict[str, Any] | None:
            report = await http.get(
                f"{reporting.url}/v1/reports/summary", params={"from": TUESDAY, "to": TUESDAY}
            )
            totals: dict[str, Any] = report.json()["totals"]
            done = totals["served"] + totals["referred"] + totals["no_shows"]
            return totals if totals["check_ins"] == 3 and done == 3 else None

        totals = await eventually(tuesday, within=30, interval=0.3)
        wednesday = await http.get(
            f"{reporting.url}/v1/reports/summary",
            params={"from": "2026-12-02", "to": "2026-12-02"},
        )
        session_report = await http.get(f"{reporting.url}/v1/reports/sessions/{session}")
        await _settled(http, notifier, calls=3)
        messages_after = await _citizen_messages(http, notifier)
        queued = await _messages(tmp_path / "notifier.db")

    assert online.json()["tickets"][0]["number"] == "KK-001"
    assert {k: totals[k] for k in ("tickets_issued", "served", "referred", "no_shows")} == {
        "tickets_issued": 3,
        "served": 1,  # KK-001, served offline before the close expired it
        "referred": 1,
        "no_shows": 1,
    }
    assert totals["expired"] == 0
    assert {hour: n for hour, n in totals["arrivals_by_hour"].items() if n} == {
        "08": 1,
        "09": 1,
        "10": 1,
    }
    assert wednesday.json()["totals"]["check_ins"] == 0
    assert session_report.json()["totals"]["check_ins"] == 3
    # Late offline calls text nobody: the only messages are those of Tuesday (the online
    # citizen's, up to that the ticket expired at the close).
    assert messages_after == messages_before
    assert queued == queued_before and "turn_near" not in queued


async def _citizen_messages(http: httpx.AsyncClient, notifier: LiveService) -> str:
    """The notifier's citizen-message counters (kind and result), from its /metrics."""
    text = (await http.get(f"{notifier.url}/metrics")).text
    return "\n".join(
        line for line in text.splitlines() if line.startswith("botram_citizen_messages_total{")
    )


async def _settled(http: httpx.AsyncClient, notifier: LiveService, calls: int) -> None:
    """The notifier has handled this many calls (and queued whatever they called for)."""

    async def handled() -> bool:
        text = (await http.get(f"{notifier.url}/metrics")).text
        done = sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("botram_events_consumed_total{")
            and 'type="botram.ticket.called.v1"' in line
            and 'result="ok"' in line
        )
        return done >= calls

    await eventually(handled, within=20, interval=0.2)


async def _messages(database: Path) -> list[str]:
    """Every citizen message the notifier queued or sent, by kind."""
    db = Database(f"sqlite+aiosqlite:///{database}")
    try:
        async with db.session() as session:
            return sorted((await session.exec(select(CitizenMessageRow.kind))).all())
    finally:
        await db.dispose()
