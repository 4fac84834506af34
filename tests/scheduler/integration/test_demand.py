"""Scheduler and reporting's demand rankings: the desa service mix of sessions generated next."""

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import httpx
from nats.aio.client import Client as NatsClient

from botram_contracts.events import DemandRankedV1, Period, RankedService
from helpers import eventually, publish_event

Generate = Callable[..., Awaitable[dict[str, Any]]]


async def test_a_demand_ranking_changes_the_services_of_the_next_desa_sessions_only(
    july_scheduler: httpx.AsyncClient,
    nc: NatsClient,
    generate: Generate,
) -> None:
    before = await generate(july_scheduler, "2024-07-06", "2024-07-10")
    ranking = DemandRankedV1(
        period=Period(start=date(2024, 6, 1), end=date(2024, 6, 30)),
        level="kecamatan",
        ranking=[
            RankedService(service="bpn-sertifikat-tanah", agency="bpn", tickets=900),
            RankedService(service="diskopukm-pendataan-umkm", agency="diskopukm", tickets=500),
            RankedService(service="distan-vaksin-rabies", agency="distan", tickets=400),
        ],
    )
    event = await publish_event(nc, ranking, "reporting")

    async def ranking_seen() -> bool:
        preview = await generate(july_scheduler, "2024-07-11", "2024-07-11", dry_run=True)
        return preview["sessions"][0]["ranking_id"] == str(event.id)

    await eventually(ranking_seen)
    after = await generate(july_scheduler, "2024-07-06", "2024-07-20")

    old_desa = next(s for s in before["sessions"] if s["level"] == "desa")
    assert old_desa["ranking_id"] is None
    for session in after["sessions"]:
        if session["action"] == "unchanged":  # generated before the ranking: untouched
            assert session["ranking_id"] is None
        elif session["level"] == "desa":
            assert session["ranking_id"] == str(event.id)
            # Not desa-eligible services never go to a desa; the top eligible come first.
            assert session["services"][:2] == ["diskopukm-pendataan-umkm", "distan-vaksin-rabies"]
            assert (
                len(session["services"]) == 15 and "bpn-sertifikat-tanah" not in session["services"]
            )
        else:
            assert len(session["services"]) == 45 and session["ranking_id"] is None
    stored = (await july_scheduler.get(f"/v1/sessions/{old_desa['session_id']}")).json()
    assert stored["services"] == old_desa["services"]
    assert "diskopukm-pendataan-umkm" not in stored["services"]
