"""New check-ins stored in groups: one transaction and one statement per table for a batch.

Only the common case is grouped: a citizen not yet checked in at an open session, asking
for services it offers. Anything else (a repeat, the same citizen twice in one batch, a
closed session, an unknown service, a quota reached, a race lost to another transaction)
returns None for that item, and the caller runs the one-at-a-time check-in, which gives the
exact answer or problem. A group that fails as a whole falls back the same way, so a
grouped check-in is never different from a single one.
"""

from dataclasses import dataclass

import structlog
from sqlalchemy import bindparam, select

from botram_registry.handlers import (
    Arrival,
    Registry,
    announce_check_in,
    citizen_facts,
    new_check_in_row,
)
from botram_registry.issuing import (
    CHECK_INS,
    TicketOrder,
    insert_check_ins,
    issue_ticket_group,
    upsert_citizens,
)
from botram_registry.nik import NikFacts
from botram_registry.schemas import CheckInRequest, CheckInResponse
from botram_registry.store import SessionRow

log = structlog.get_logger(__name__)

CHECKED_IN_ALREADY = select(CHECK_INS.c.citizen_id).where(
    CHECK_INS.c.session_id == bindparam("session_id"),
    CHECK_INS.c.citizen_id.in_(bindparam("citizen_ids", expanding=True)),
)


@dataclass(frozen=True, slots=True)
class PendingCheckIn:
    session_id: str
    request: CheckInRequest
    facts: NikFacts
    citizen_key: str


async def check_in_group(
    registry: Registry, items: list[PendingCheckIn]
) -> list[CheckInResponse | None]:
    """Store the new check-ins among `items`; None where the caller must check in singly."""
    results: list[CheckInResponse | None] = [None] * len(items)
    by_session: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        by_session.setdefault(item.session_id, []).append(index)
    for session_id, indexes in by_session.items():
        try:
            stored = await _group_at_session(registry, session_id, [items[i] for i in indexes])
        except Exception as error:  # the single path redoes them all and reports exactly
            log.debug("check_in_group_fell_back", size=len(indexes), error=type(error).__name__)
            continue
        for index, response in zip(indexes, stored, strict=True):
            results[index] = response
    return results


async def _group_at_session(
    registry: Registry, session_id: str, items: list[PendingCheckIn]
) -> list[CheckInResponse | None]:
    now = registry.clock()
    responses: list[CheckInResponse | None] = [None] * len(items)
    async with registry.db.transaction() as session:
        row = await session.get(SessionRow, session_id)
        if row is None or row.status != "opened":
            return responses
        chosen = _groupable(registry, row, items)
        if not chosen:
            return responses
        # Sorted by pseudonym: two groups lock citizen rows in one order (PostgreSQL).
        order = sorted(chosen, key=lambda i: items[i].citizen_key)
        stored = await upsert_citizens(
            session,
            [
                citizen_facts(
                    items[i].request, items[i].facts, items[i].citizen_key, registry.settings
                )
                for i in order
            ],
            now,
        )
        citizens = dict(zip(order, stored, strict=True))
        already = set(
            (
                await session.exec(
                    CHECKED_IN_ALREADY,
                    params={
                        "session_id": session_id,
                        "citizen_ids": [c.id for c in citizens.values()],
                    },
                )
            ).scalars()
        )
        chosen = [i for i in chosen if citizens[i].id not in already]
        if not chosen:
            return responses
        created = [
            new_check_in_row(
                registry, row, citizens[i].id, items[i].request, items[i].facts, Arrival(), now
            )
            for i in chosen
        ]
        await insert_check_ins(session, [check_in_row for check_in_row, _ in created])
        tickets = await issue_ticket_group(
            session,
            registry.catalogue,
            row,
            [TicketOrder(c.id, c.priority, c.services) for c, _ in created],
            now,
        )
        for index, (check_in_row, age), issued in zip(chosen, created, tickets, strict=True):
            item = items[index]
            responses[index] = announce_check_in(
                session,
                row,
                check_in_row,
                item.request,
                item.facts,
                age,
                citizens[index],
                item.citizen_key,
                issued,
            )
    return responses


def _groupable(registry: Registry, row: SessionRow, items: list[PendingCheckIn]) -> list[int]:
    """The items a group can store: offered services, each citizen once."""
    chosen: list[int] = []
    citizens: set[str] = set()
    for index, item in enumerate(items):
        codes = item.request.services
        if item.citizen_key in citizens or not all(
            code in registry.catalogue and code in row.services for code in codes
        ):
            continue
        citizens.add(item.citizen_key)
        chosen.append(index)
    return chosen
