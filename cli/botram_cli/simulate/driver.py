"""Drives a simulated day through the real system: check-ins, desks calling and serving.

A discrete-event simulation in virtual time (seconds since the session opened). Events are
executed in time order, one HTTP request at a time, so a seed gives the same day; with a
speed factor the driver waits for real time to catch up (60 = one hour per minute).
"""

import asyncio
import heapq
import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from botram_cli.simulate.plan import NO_SHOW_PATIENCE_SECONDS, DayPlan, Parameters
from botram_contracts.reference import Catalogue

# A pre-registration refused for its slot (over, or full): the next slot is tried.
SLOT_REFUSALS = frozenset({"slot-passed", "slot-full"})


@dataclass
class Tally:
    """What the simulator did, to compare with what reporting counted."""

    checkins: int = 0
    pre_registrations: int = 0
    checked_in_by_code: int = 0
    tickets: Counter[str] = field(default_factory=Counter)
    outcomes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    no_shows: Counter[str] = field(default_factory=Counter)
    follow_ups: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    # The satisfaction survey answers sent (u1…u9 each), per service.
    surveys: dict[str, list[tuple[int, ...]]] = field(default_factory=lambda: defaultdict(list))


@dataclass
class Desk:
    name: str
    agency: str
    services: list[str]
    serving: tuple[str, str] | None = None  # (ticket id, service)
    idle: bool = True


class DayDriver:
    """Executes a day plan against the registry's HTTP API."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        registry_url: str,
        session_id: str,
        plan: DayPlan,
        params: Parameters,
        catalogue: Catalogue,
        *,
        speed: float = 0.0,
        on_progress: Callable[[Tally], None] | None = None,
        desk_headers: Callable[[str], dict[str, str]] | None = None,
    ) -> None:
        self._http = client
        # A desk acts with its agency's token; None: the client's own headers for everything.
        self._desk_headers = desk_headers
        self._url = registry_url.rstrip("/")
        self._session = session_id
        self._plan = plan
        self._params = params
        self._speed = speed
        self._on_progress = on_progress
        self.tally = Tally()
        # NIK -> the code of the citizen's pre-registration (their QR code).
        self._codes: dict[str, str] = {}
        self._waiting: Counter[str] = Counter()
        # Served or referred tickets (id, service, desk), which an agency may follow up.
        self._finished: list[tuple[str, str, Desk]] = []
        # Each ticket's status code (from its `status_url`): where its holder answers the survey.
        self._status_codes: dict[str, str] = {}
        self._queue: list[tuple[float, int, str, object]] = []
        self._order = itertools.count()
        offered = {code for citizen in plan.citizens for code in citizen.services}
        by_agency: dict[str, list[str]] = defaultdict(list)
        for code in sorted(offered):
            by_agency[catalogue.get(code).agency].append(code)
        self._desks = [
            Desk(f"{agency}-{n + 1}", agency, codes)
            for agency, codes in sorted(by_agency.items())
            for n in range(params.desks_per_agency)
        ]

    async def run(self) -> Tally:
        await self._pre_register()
        for citizen in self._plan.citizens:
            self._push(citizen.arrival_seconds, "arrive", citizen)
        started = time.monotonic()
        # Bounded: each citizen arrives once and each ticket is called and finished once.
        limit = 10 + sum(4 * len(c.services) + 1 for c in self._plan.citizens) + len(self._desks)
        for _ in range(limit):
            if not self._queue:
                break
            moment, _, kind, payload = heapq.heappop(self._queue)
            if self._speed > 0:
                await asyncio.sleep(max(0.0, started + moment / self._speed - time.monotonic()))
            if kind == "arrive":
                await self._arrive(moment, payload)
            else:
                await self._desk_free(moment, payload)  # type: ignore[arg-type]
            if self._on_progress is not None:
                self._on_progress(self.tally)
        return self.tally

    async def follow_up(self) -> Counter[str]:
        """After the day: the agencies report some documents ready (their desk's token), each
        once; the citizens who gave a phone are texted where to collect it."""
        for ticket_id, service, desk in self._finished:
            if not self._plan.follows_up(self._params.follow_up_share):
                continue
            body: dict[str, object] = {
                "kind": "document_ready",
                "place": f"Kantor {desk.agency.replace('-', ' ').title()}, loket pengambilan",
                "note": "Bawa tanda terima dari Botram.",
            }
            response = await self._post(f"/v1/tickets/{ticket_id}/follow-ups", body, desk)
            if response.status_code == 201:
                self.tally.follow_ups[service] += 1
            else:
                self._refused(response)
        return self.tally.follow_ups

    def _push(self, moment: float, kind: str, payload: object) -> None:
        heapq.heappush(self._queue, (moment, next(self._order), kind, payload))

    async def _post(
        self, path: str, body: dict[str, object] | None = None, desk: "Desk | None" = None
    ) -> httpx.Response:
        self.tally.requests += 1
        headers = self._desk_headers(desk.agency) if desk and self._desk_headers else None
        return await self._http.post(f"{self._url}{path}", json=body, headers=headers)

    def _refused(self, response: httpx.Response) -> None:
        reason = response.json().get("type", "").rsplit("/", 1)[-1] or str(response.status_code)
        self.tally.refused[reason] += 1

    async def _pre_register(self) -> None:
        """Before the day: a desa office registers the plan's pre-registered citizens, each
        in the first arrival slot that takes them (none left: they walk in)."""
        ahead = [c for c in self._plan.citizens if c.pre_registered]
        if not ahead:
            return
        slots = (await self._http.get(f"{self._url}/v1/sessions/{self._session}/slots")).json()
        starts = [slot["start"] for slot in slots]
        for citizen in ahead:
            while starts:  # bounded: each refused slot is dropped
                body: dict[str, object] = {
                    "nik": citizen.nik,
                    "name": citizen.name,
                    "services": list(citizen.services),
                    "slot": starts[0],
                    "priority": citizen.priority,
                }
                if citizen.phone:
                    body["phone"] = citizen.phone
                path = f"/v1/sessions/{self._session}/pre-registrations"
                response = await self._post(path, body)
                if response.status_code == 201:
                    self.tally.pre_registrations += 1
                    self._codes[citizen.nik] = response.json()["code"]
                    break
                if response.json().get("type", "").rsplit("/", 1)[-1] not in SLOT_REFUSALS:
                    self._refused(response)
                    break
                starts.pop(0)

    async def _arrive(self, moment: float, citizen) -> None:  # type: ignore[no-untyped-def]
        if (code := self._codes.get(citizen.nik)) is not None:
            path = f"/v1/sessions/{self._session}/pre-registrations/{code}/check-in"
            response = await self._post(path)
            self.tally.checked_in_by_code += response.status_code == 201
            await self._checked_in(moment, response)
            return
        body: dict[str, object] = {
            "nik": citizen.nik,
            "name": citizen.name,
            "services": list(citizen.services),
            "priority": citizen.priority,
        }
        if citizen.phone:
            body["phone"] = citizen.phone
        response = await self._post(f"/v1/sessions/{self._session}/check-ins", body)
        await self._checked_in(moment, response)

    async def _checked_in(self, moment: float, response: httpx.Response) -> None:
        if response.status_code not in (200, 201):
            self._refused(response)
            return
        if response.status_code == 201:
            self.tally.checkins += 1
        for ticket in response.json()["tickets"]:
            self._status_codes[ticket["ticket_id"]] = ticket["status_url"].rsplit("/", 1)[-1]
            self.tally.tickets[ticket["service"]] += 1
            self._waiting[ticket["service"]] += 1
        for desk in self._desks:
            if desk.idle and any(self._waiting[s] for s in desk.services):
                desk.idle = False
                self._push(moment, "desk", desk)

    async def _desk_free(self, moment: float, desk: Desk) -> None:
        if desk.serving is not None:
            ticket_id, service = desk.serving
            outcome = self._plan.outcome()
            response = await self._post(
                f"/v1/tickets/{ticket_id}/complete", {"outcome": outcome}, desk
            )
            if response.status_code == 200:
                self.tally.outcomes[service][outcome] += 1
                if outcome in ("served", "referred"):
                    self._finished.append((ticket_id, service, desk))
                if outcome == "served":
                    await self._answer_survey(ticket_id, service)
            else:
                self._refused(response)
            desk.serving = None
        service = max(desk.services, key=lambda s: self._waiting[s])
        if not self._waiting[service]:
            desk.idle = True
            return
        response = await self._post(
            f"/v1/sessions/{self._session}/services/{service}/call-next", {"desk": desk.name}, desk
        )
        if response.status_code != 200:
            self._waiting[service] = 0  # the registry says nobody waits: trust it
            self._refused(response)
            self._push(moment, "desk", desk)
            return
        self._waiting[service] -= 1
        ticket_id = response.json()["ticket_id"]
        if self._plan.no_show(self._params.no_show_share):
            result = await self._post(f"/v1/tickets/{ticket_id}/no-show", None, desk)
            if result.status_code == 200:
                self.tally.no_shows[service] += 1
            else:
                self._refused(result)
            self._push(moment + NO_SHOW_PATIENCE_SECONDS, "desk", desk)
            return
        desk.serving = (ticket_id, service)
        self._push(moment + self._plan.service_seconds(service), "desk", desk)

    async def _answer_survey(self, ticket_id: str, service: str) -> None:
        """The served citizen answers the survey on the ticket's page, or not."""
        answers = self._plan.survey_answers(self._params.survey_share)
        if answers is None:
            return
        self.tally.requests += 1
        body = {f"u{i}": score for i, score in enumerate(answers, start=1)}
        code = self._status_codes[ticket_id]
        url = f"{self._url}/v1/ticket-status/{code}/survey"
        response = await self._http.post(url, json=body, headers={"Authorization": ""})
        if response.status_code == 201:
            self.tally.surveys[service].append(answers)
        else:
            self._refused(response)
