"""The satisfaction survey of a served ticket: answered once, by the ticket's status code.

The registry keeps only that the ticket answered (`survey_store`); the answers leave as an
anonymous `botram.survey.answered.v1` for reporting, under a fresh random id.
"""

from uuid import uuid4

from sqlalchemy.exc import IntegrityError

from botram_registry import events, store, survey_store
from botram_registry.deps import Deps
from botram_registry.domain.survey import AnswerSurvey, SurveyState, check_survey_open, survey_state
from botram_registry.store import CheckInRow, CitizenRow, SessionRow
from botram_runtime.errors import Conflict, NotFound
from botram_runtime.outbox import stage_event


async def answer_survey(deps: Deps, command: AnswerSurvey) -> SurveyState:
    """Record the answers of a served ticket's holder (409 when not served or answered)."""
    try:
        async with deps.db.transaction() as tx:
            found = await store.ticket_by_status_code(tx, command.code)
            if found is None:
                raise NotFound("ticket", "with this status code", code="ticket-not-found")
            ticket = await store.lock_ticket(tx, found.id)
            assert ticket is not None  # found a moment ago in this transaction
            answered = await survey_store.answered(tx, ticket.id)
            check_survey_open(survey_state(ticket.status, ticket.outcome, answered))
            session = await tx.get(SessionRow, ticket.session_id)
            if session is None:
                raise NotFound("session", ticket.session_id)
            check_in = await tx.get(CheckInRow, ticket.check_in_id)
            citizen = await tx.get(CitizenRow, check_in.citizen_id) if check_in else None
            survey_store.mark_answered(tx, ticket.id)
            data = events.survey_answered(str(uuid4()), ticket, session, citizen, command.scores)
            stage_event(tx, data)
    except IntegrityError as error:  # two answers at once: the other one was first
        raise Conflict(
            "This ticket's survey was already answered", code="survey-already-answered"
        ) from error
    return SurveyState.ANSWERED
