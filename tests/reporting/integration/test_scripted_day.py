"""Reporting on a real nats-server: a scripted day of events, restarts, redeliveries, rebuild.

The day's events are generated with a seeded random; the expected figures are computed here
from the generated ground truth with plain loops, independently of botram_reporting.reports.
"""

import asyncio
import json
import random
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from prometheus_client.parser import text_string_to_metric_families

from botram_contracts.events import (
    MSG_ID_HEADER,
    BotramEvent,
    CitizenCheckedInV1,
    ServiceCompletedV1,
    ServiceFollowedUpV1,
    SessionClosedV1,
    SessionOpenedV1,
    SessionScheduledV1,
    TicketCalledV1,
    TicketNoShowV1,
    TicketRef,
    encode_event,
    make_event,
)
from botram_contracts.reference import load_catalogue
from botram_reporting.main import create_app
from botram_reporting.rebuild_command import rebuild_from_stream
from botram_reporting.settings import Settings
from botram_runtime.bus import DLQ_REASON_HEADER
from botram_runtime.clock import JAKARTA
from helpers import assert_problem, eventually, fetch_events, promtool, running

AGE_BANDS = ("0-17", "18-29", "30-44", "45-59", "60+")
SESSIONS = (
    # id, level, kecamatan, desa, date, closes that day
    ("s-sukatani", "kecamatan", "sukatani", None, date(2024, 7, 6), True),
    ("s-ciantra", "desa", "cikarang-selatan", "ciantra", date(2024, 7, 9), True),
    ("s-tarumajaya", "kecamatan", "tarumajaya", None, date(2024, 7, 13), False),
)


@dataclass
class Truth:
    """What happened, as the test generated it."""

    events: list[tuple[str, BotramEvent]] = field(default_factory=list)  # (producer, data)
    check_ins: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)


def scripted_day(seed: int = 6) -> Truth:
    """Three sessions, a few hundred citizens, every ticket called, served or not."""
    rng = random.Random(seed)
    # Follow-ups draw from their own random, so the rest of the day stays as it was.
    follow_ups = random.Random(seed + 1)
    services = [(s.code, s.agency) for s in load_catalogue()][:14]
    truth = Truth()
    for session_id, level, kecamatan, desa, day, closes in SESSIONS:
        where = {"session_id": session_id, "level": level, "kecamatan": kecamatan, "desa": desa}
        opened_at = datetime.combine(day, time(8), JAKARTA)
        truth.events.append(
            (
                "scheduler",
                SessionScheduledV1(
                    **where,
                    date=day,
                    start=time(8),
                    end=time(14),
                    services=[code for code, _ in services],
                ),
            )
        )
        truth.events.append(("scheduler", SessionOpenedV1(**where, date=day, opened_at=opened_at)))
        for n in range(rng.randint(90, 130)):
            check_in_id = f"{session_id}-c{n}"
            at = opened_at + timedelta(minutes=rng.randint(0, 359))
            person = {
                "id": check_in_id,
                "session_id": session_id,
                "kecamatan": kecamatan,
                "desa": desa,
                "level": level,
                "day": day,
                "hour": at.hour,
                "sex": rng.choice("FM"),
                "age_band": rng.choice(AGE_BANDS),
                "resident": rng.random() < 0.8,
            }
            truth.check_ins.append(person)
            chosen = rng.sample(services, rng.randint(1, 3))
            refs = [
                TicketRef(
                    ticket_id=f"{check_in_id}-t{i}",
                    service=code,
                    agency=agency,
                    number=f"X-{n:03d}",
                    position=n + 1,
                )
                for i, (code, agency) in enumerate(chosen)
            ]
            truth.events.append(
                (
                    "registry",
                    CitizenCheckedInV1(
                        check_in_id=check_in_id,
                        session_id=session_id,
                        level=level,
                        kecamatan=kecamatan,
                        desa=desa,
                        citizen=f"{rng.getrandbits(256):064x}",
                        sex=person["sex"],
                        age_band=person["age_band"],
                        resident=person["resident"],
                        priority=False,
                        tickets=refs,
                        checked_in_at=at.astimezone(UTC),
                    ),
                )
            )
            for ref in refs:
                ticket = {
                    "id": ref.ticket_id,
                    "check_in_id": check_in_id,
                    "session_id": session_id,
                    "service": ref.service,
                    "agency": ref.agency,
                    "level": level,
                    "kecamatan": kecamatan,
                    "desa": desa,
                    "day": day,
                    "outcome": None,
                    "waited": None,
                    "served_for": None,
                    "ready": None,
                }
                truth.tickets.append(ticket)
                if not closes and rng.random() < 0.3:
                    continue  # still waiting at the open session
                common = {
                    "ticket_id": ref.ticket_id,
                    "session_id": session_id,
                    "service": ref.service,
                    "agency": ref.agency,
                    "level": level,
                    "kecamatan": kecamatan,
                }
                ticket["waited"] = float(rng.randint(0, 5400))
                truth.events.append(
                    (
                        "registry",
                        TicketCalledV1(
                            **common, number=ref.number, waited_seconds=ticket["waited"]
                        ),
                    )
                )
                if rng.random() < 0.1:
                    ticket["outcome"] = "no_show"
                    truth.events.append(("registry", TicketNoShowV1(**common)))
                    continue
                ticket["outcome"] = rng.choices(("served", "referred", "rejected"), (8, 1, 1))[0]
                ticket["served_for"] = float(rng.randint(30, 1800))
                truth.events.append(
                    (
                        "registry",
                        ServiceCompletedV1(
                            **common,
                            check_in_id=check_in_id,
                            citizen="0" * 64,
                            outcome=ticket["outcome"],
                            waited_seconds=ticket["waited"],
                            service_seconds=ticket["served_for"],
                        ),
                    )
                )
                if ticket["outcome"] != "rejected" and follow_ups.random() < 0.3:
                    ticket["ready"] = float(follow_ups.randint(3600, 14 * 86400))
                    ready = ServiceFollowedUpV1(
                        **common,
                        follow_up_id=f"{ref.ticket_id}-f",
                        kind="document_ready",
                        place="Kantor Kecamatan",
                        outcome=ticket["outcome"],
                        followed_up_at=at.astimezone(UTC) + timedelta(seconds=ticket["ready"]),
                        seconds_since_completion=ticket["ready"],
                    )
                    truth.events.append(("registry", ready))
        if closes:
            closed_at = datetime.combine(day, time(14), JAKARTA)
            truth.events.append(
                ("scheduler", SessionClosedV1(**where, date=day, closed_at=closed_at))
            )
    return truth


# --- the expected figures, computed from the ground truth --------------------------------


def nearest_rank(values: list[float], p: int) -> float | None:
    """The smallest value with at least p % of the values at or below it."""
    for candidate in sorted(set(values)):
        if sum(1 for v in values if v <= candidate) * 100 >= p * len(values):
            return candidate
    return None


def durations(values: list[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "mean": round(sum(values) / len(values), 3) if values else None,
        "p50": nearest_rank(values, 50),
        "p90": nearest_rank(values, 90),
    }


def expected_figures(people: list[dict[str, Any]], tickets: list[dict[str, Any]]) -> dict[str, Any]:
    outcomes = Counter(t["outcome"] for t in tickets)
    hours = Counter(p["hour"] for p in people)
    return {
        "check_ins": len(people),
        "tickets_issued": len(tickets),
        "served": outcomes["served"],
        "referred": outcomes["referred"],
        "rejected": outcomes["rejected"],
        "no_shows": outcomes["no_show"],
        "expired": outcomes["expired"],
        "cancelled": outcomes["cancelled"],
        "waiting": outcomes[None],
        "wait_seconds": durations([t["waited"] for t in tickets if t["waited"] is not None]),
        "service_seconds": durations(
            [t["served_for"] for t in tickets if t["served_for"] is not None]
        ),
        "follow_ups": sum(t["ready"] is not None for t in tickets),
        "ready_seconds": durations([t["ready"] for t in tickets if t["ready"] is not None]),
        "residents": sum(p["resident"] for p in people),
        "non_residents": sum(not p["resident"] for p in people),
        "sex": {s: sum(p["sex"] == s for p in people) for s in "FM"},
        "age_bands": {b: sum(p["age_band"] == b for p in people) for b in AGE_BANDS},
        "arrivals_by_hour": {f"{h:02d}": hours[h] for h in sorted(hours)},
    }


def expected_groups(truth: Truth, dimension: str) -> list[dict[str, Any]]:
    people_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    tickets_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    person = {p["id"]: p for p in truth.check_ins}
    if dimension in ("service", "agency"):
        for t in truth.tickets:
            tickets_of[t[dimension]].append(t)
        for key, tickets in tickets_of.items():
            holders = {t["check_in_id"] for t in tickets}
            people_of[key] = [person[h] for h in sorted(holders)]
    else:
        key = {
            "kecamatan": lambda r: r["kecamatan"],
            "day": lambda r: r["day"].isoformat(),
            "month": lambda r: f"{r['day'].year}-{r['day'].month:02d}",
        }[dimension]
        for p in truth.check_ins:
            people_of[key(p)].append(p)
        for t in truth.tickets:
            tickets_of[key(t)].append(t)
    return [
        {"key": k, **expected_figures(people_of[k], tickets_of[k])}
        for k in sorted(set(people_of) | set(tickets_of))
    ]


def subset(truth: Truth, session_id: str) -> Truth:
    return Truth(
        check_ins=[p for p in truth.check_ins if p["session_id"] == session_id],
        tickets=[t for t in truth.tickets if t["session_id"] == session_id],
    )


# --- the service under test --------------------------------------------------------------


async def publish_all(nc: NatsClient, events: list[tuple[str, BotramEvent]]) -> list[Any]:
    js = nc.jetstream()
    published = []
    for producer, data in events:
        event = make_event(data, producer)
        await js.publish(event.subject, encode_event(event), headers={MSG_ID_HEADER: str(event.id)})
        published.append(event)
    return published


async def caught_up(nc: NatsClient) -> None:
    """Wait until reporting's durable consumer has processed and acked everything."""
    js = nc.jetstream()

    async def done() -> bool:
        try:
            info = await js.consumer_info("BOTRAM", "reporting")
        except Exception:
            return False
        return info.num_pending == 0 and (info.num_ack_pending or 0) == 0

    # Messages a stopped instance had fetched but not acked come back only when their ack
    # wait (JetStream's default: 30 s) runs out, so a restart can take longer than that.
    # The outer bound turns a stuck await (seen rarely, cause unknown) into a traceback.
    async with asyncio.timeout(120):
        await eventually(done, within=90)


async def snapshot(client: httpx.AsyncClient) -> dict[str, Any]:
    """Everything reporting answers about the day, for comparisons across restarts/rebuilds."""
    async with asyncio.timeout(60):  # ASGI requests have no timeout of their own
        return await _snapshot(client)


async def _snapshot(client: httpx.AsyncClient) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for session_id, *_ in SESSIONS:
        out[session_id] = (await client.get(f"/v1/reports/sessions/{session_id}")).json()
    summary = await client.get("/v1/reports/summary", params={"from": "2024-07-01"})
    out["summary"] = summary.json()
    out["csv"] = (await client.get("/v1/reports/summary", params={"format": "csv"})).text
    out["demand"] = (
        await client.get("/v1/reports/demand", params={"from": "2024-07-01", "to": "2024-07-31"})
    ).json()
    out["metrics"] = contract_metrics((await client.get("/metrics")).text)
    return out


def contract_metrics(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The contract's samples (not the process's own event counters, which restart at 0)."""
    names = (
        "botram_checkins",
        "botram_tickets_issued",
        "botram_services_completed",
        "botram_no_shows",
        "botram_wait_seconds",
        "botram_service_seconds",
        "botram_queue_waiting",
        "botram_sessions",
    )
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        if family.name in names
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


@pytest.fixture
def truth() -> Truth:
    return scripted_day()


@pytest.mark.timeout(400)
async def test_a_scripted_day_survives_restarts_and_redeliveries_and_rebuilds_exactly(
    settings: Settings, nc: NatsClient, truth: Truth
) -> None:
    first_day = [e for e in truth.events if e[1].session_id == "s-sukatani"]  # type: ignore[attr-defined]
    rest = truth.events[len(first_day) :]
    js = nc.jetstream()

    async with running(create_app(settings)):
        published = await publish_all(nc, first_day)
        # Bad input among good: not JSON at all, and a well-formed event of a future type.
        await js.publish("botram.citizen.checked_in.v1.kecamatan.sukatani", b"{not json")
        unknown = json.loads(encode_event(published[0]))
        unknown.update(id=str(uuid.uuid4()), type="botram.session.renamed.v9")
        await js.publish(
            "botram.session.renamed.v9.kecamatan.sukatani", json.dumps(unknown).encode()
        )
        await caught_up(nc)
        # Restart mid-stream: the second session's events arrive while reporting stops.
        await publish_all(nc, [e for e in rest if e[1].session_id == "s-ciantra"])  # type: ignore[attr-defined]
    await publish_all(nc, [e for e in rest if e[1].session_id == "s-tarumajaya"])  # type: ignore[attr-defined]
    # Redeliveries past the stream's duplicate window: the same events under new message ids.
    for event in published[::5]:
        await js.publish(
            event.subject, encode_event(event), headers={MSG_ID_HEADER: "again-" + str(event.id)}
        )

    async with running(create_app(settings)) as client:
        await caught_up(nc)
        before = await snapshot(client)

    summary = before["summary"]
    assert summary["totals"] == expected_figures(truth.check_ins, truth.tickets)
    for dimension in ("kecamatan", "service", "agency", "day", "month"):
        assert summary["groups"][dimension] == expected_groups(truth, dimension), dimension
    for session_id, *_ in SESSIONS:
        part = subset(truth, session_id)
        report = before[session_id]
        assert report["totals"] == expected_figures(part.check_ins, part.tickets), session_id
        assert report["groups"]["service"] == expected_groups(part, "service"), session_id

    # Metrics of the contract, after a restart, equal the ground truth too.
    metrics = before["metrics"]
    per_kecamatan = Counter((p["level"], p["kecamatan"]) for p in truth.check_ins)
    for (level, kecamatan), count in per_kecamatan.items():
        key = ("botram_checkins_total", (("kecamatan", kecamatan), ("level", level)))
        assert metrics[key] == count
    still_waiting = Counter(
        (t["agency"], t["service"])
        for t in truth.tickets
        if t["outcome"] is None and t["waited"] is None
    )
    queue = {
        (dict(labels)["agency"], dict(labels)["service"]): value
        for (name, labels), value in metrics.items()
        if name == "botram_queue_waiting" and value
    }
    assert queue == dict(still_waiting)
    assert metrics[("botram_sessions", (("level", "kecamatan"), ("status", "opened")))] == 1
    assert metrics[("botram_sessions", (("level", "kecamatan"), ("status", "closed")))] == 1

    # The malformed message went to the dead letter with its reason.
    dead = await js.pull_subscribe("botram.dlq.reporting")
    [message] = await dead.fetch(1, timeout=5)
    assert message.data == b"{not json" and message.headers[DLQ_REASON_HEADER]

    # Rebuild from the stream into emptied tables: identical reports and metrics.
    counts = await rebuild_from_stream(settings)
    assert counts.applied == len(truth.events) + 1  # + the ranking reporting published
    assert counts.duplicates == len(published[::5]) and counts.unknown == 1
    async with running(create_app(settings)) as client:
        await caught_up(nc)
        after = await snapshot(client)
    assert after == before


async def test_closing_a_kecamatan_session_publishes_the_demand_ranking_of_its_window(
    settings: Settings, nc: NatsClient, truth: Truth
) -> None:
    first_day = [e for e in truth.events if e[1].session_id == "s-sukatani"]  # type: ignore[attr-defined]
    async with running(create_app(settings)) as client:
        await publish_all(nc, first_day)
        [event] = await fetch_events(nc, "botram.demand.ranked.v1.kecamatan", 1, within=20)
        issued = Counter(
            (t["service"], t["agency"]) for t in truth.tickets if t["session_id"] == "s-sukatani"
        )
        ranking = event.data.ranking
        assert {(r.service, r.agency): r.tickets for r in ranking if r.tickets} == dict(issued)
        assert [r.tickets for r in ranking] == sorted((r.tickets for r in ranking), reverse=True)
        assert len(ranking) == len(load_catalogue())  # services nobody asked for rank last
        assert event.data.period.end == date(2024, 7, 6)
        assert event.data.period.start == date(2024, 7, 6) - timedelta(days=89)

        # On request too, for the window the planner names.
        response = await client.post("/v1/reports/demand/publish", json={"to": "2024-07-06"})
        assert response.status_code == 202, response.text
        events = await fetch_events(nc, "botram.demand.ranked.v1.kecamatan", 2, within=20)
        assert events[1].data.ranking == ranking


async def test_reports_refuse_unclear_questions_with_a_clear_problem(
    settings: Settings, nc: NatsClient
) -> None:
    async with running(create_app(settings)) as client:
        period = {"from": "2024-07-31", "to": "2024-07-01"}
        assert_problem(
            await client.get("/v1/reports/summary", params=period), 422, "invalid-period"
        )
        assert_problem(await client.get("/v1/reports/demand", params=period), 422, "invalid-period")
        body = assert_problem(
            await client.get("/v1/reports/summary", params={"kecamatan": "Sukatan"}),
            422,
            "unknown-kecamatan",
        )
        assert "Sukatani" in " ".join(body["suggestions"])
        assert_problem(await client.get("/v1/reports/summary", params={"level": "kota"}), 422)
        assert_problem(await client.get("/v1/reports/sessions/nope"), 404, "unknown-session")


async def test_promtool_accepts_the_metrics_of_reporting(
    settings: Settings, nc: NatsClient, truth: Truth
) -> None:
    async with running(create_app(settings)) as client:
        await publish_all(nc, truth.events[:200])
        await caught_up(nc)
        text = (await client.get("/metrics")).text
    assert "botram_wait_seconds_bucket" in text and "botram_consumer_lag_messages" in text
    result = promtool("check", "metrics", stdin=text)
    assert result.returncode == 0, result.stdout + result.stderr
