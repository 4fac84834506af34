"""The satisfaction survey of a served ticket: offered on its status page, answered once, and
published anonymous (no pseudonym, no ticket id); the registry keeps only THAT it answered."""

import re
from collections.abc import Awaitable, Callable

import httpx
from nats.aio.client import Client as NatsClient

from botram_contracts.events import SurveyAnsweredV1
from botram_registry.deps import Deps
from helpers import assert_problem, eventually, fetch_events

Citizen = Callable[..., dict[str, object]]
KnownSession = Callable[[httpx.AsyncClient, str, str], Awaitable[None]]
AnnounceSession = Callable[..., Awaitable[None]]
ANSWERS = {"u1": 4, "u2": 3, "u3": 3, "u4": 4, "u5": 2, "u6": 4, "u7": 4, "u8": 1, "u9": 3}


def code_of(ticket: dict[str, str]) -> str:
    match = re.search(r"/t/([A-Za-z0-9_-]+)$", ticket["status_url"])
    assert match
    return match[1]


async def test_a_served_ticket_answers_the_survey_once_and_anonymously(
    registry: httpx.AsyncClient,
    deps: Deps,
    nc: NatsClient,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    citizen: Citizen,
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")
    answer = (await registry.post("/v1/sessions/s-1/check-ins", json=citizen())).json()
    kk, bpjs = answer["tickets"]
    code, other = code_of(kk), code_of(bpjs)
    survey = f"/v1/ticket-status/{code}/survey"

    assert (await registry.get(f"/v1/ticket-status/{code}")).json()["survey"] is None
    assert_problem(await registry.post(survey, json=ANSWERS), 409, "survey-not-open")
    page = await registry.get(f"/t/{code}")
    assert 'id="survey-form"' not in page.text

    called = await registry.post(
        "/v1/sessions/s-1/services/dukcapil-kk/call-next", json={"desk": "Loket 2"}
    )
    assert called.status_code == 200, called.text
    done = await registry.post(
        f"/v1/tickets/{kk['ticket_id']}/complete", json={"outcome": "served"}
    )
    assert done.status_code == 200, done.text

    assert (await registry.get(f"/v1/ticket-status/{code}")).json()["survey"] == "open"
    page = await registry.get(f"/t/{code}")
    assert 'id="survey-form"' in page.text and "Survei Kepuasan Masyarakat" in page.text
    assert "Sangat sopan dan ramah" in page.text and "Dikelola dengan baik" in page.text
    assert_problem(await registry.post(survey, json=ANSWERS | {"u3": 5}), 422)  # each element 1-4
    assert_problem(await registry.post(survey, json={"u1": 4}), 422)

    answered = await registry.post(survey, json=ANSWERS, headers={"Authorization": ""})
    assert answered.status_code == 201, answered.text
    assert answered.json() == {"survey": "answered"}
    assert_problem(await registry.post(survey, json=ANSWERS), 409, "survey-already-answered")
    assert (await registry.get(f"/v1/ticket-status/{code}")).json()["survey"] == "answered"
    assert "Terima kasih" in (await registry.get(f"/t/{code}")).text
    # The other ticket of the same citizen is still waiting: no survey for it yet.
    assert_problem(
        await registry.post(f"/v1/ticket-status/{other}/survey", json=ANSWERS),
        409,
        "survey-not-open",
    )

    (event,) = await fetch_events(nc, "botram.survey.answered.v1.dukcapil.dukcapil-kk", 1)
    data = event.data
    assert isinstance(data, SurveyAnsweredV1)
    assert data.scores() == tuple(ANSWERS.values())
    assert (data.session_id, data.level, data.kecamatan) == ("s-1", "kecamatan", "sukatani")
    assert (data.sex, data.age_band, data.resident) == ("F", "30-44", True)
    body = event.model_dump_json()
    completed = await fetch_events(nc, "botram.service.completed.v1.>", 1)
    pseudonym = completed[0].data.citizen  # type: ignore[attr-defined]
    for secret in (pseudonym, kk["ticket_id"], answer["check_in_id"], code, citizen()["nik"]):
        assert str(secret) not in body
    assert data.survey_id not in {kk["ticket_id"], answer["check_in_id"]}

    # The registry keeps that the ticket answered, never the answers: once published, the
    # survey's outbox row is gone too.
    async def rows(query: str) -> list[tuple[object, ...]]:
        async with deps.db.engine.connect() as connection:
            return [tuple(row) for row in await connection.exec_driver_sql(query)]

    assert await rows("SELECT * FROM survey_taken") == [(kk["ticket_id"],)]

    async def survey_rows_gone() -> bool:
        query = "SELECT count(*) FROM outbox_events WHERE type = 'botram.survey.answered.v1'"
        return await rows(query) == [(0,)]

    await eventually(survey_rows_gone)
