"""Personal data retention on a real database: NIK, name and phone expire; pseudonyms stay."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
from sqlmodel import select

from botram_registry.deps import Deps
from botram_registry.store import CheckInRow, CitizenRow
from botram_registry.usecases.retention import erase_expired_personal_data
from helpers import FakeClock


async def test_personal_data_is_erased_after_the_retention_period(
    registry: httpx.AsyncClient,
    deps: Deps,
    clock: FakeClock,
    announce_session: Callable[..., Awaitable[None]],
    known_session: Callable[[httpx.AsyncClient, str, str], Awaitable[None]],
    citizen: Callable[..., dict[str, object]],
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")
    await registry.post(
        "/v1/sessions/s-1/check-ins",
        json=citizen(phone="081234567890", priority_reasons=["ibu-hamil"]),
    )

    assert await erase_expired_personal_data(deps) == 0
    clock.advance(timedelta(days=31).total_seconds())
    assert await erase_expired_personal_data(deps) == 1

    async with deps.db.session() as session:
        person = (await session.exec(select(CitizenRow))).one()
        visit = (await session.exec(select(CheckInRow))).one()
    assert (person.nik, person.name, person.phone) == (None, None, None)
    assert len(person.pseudonym) == 64 and visit.priority_reasons == []
    assert await erase_expired_personal_data(deps) == 0
