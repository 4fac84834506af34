"""The survey's answers as reporting keeps them: one row per answer, anonymous.

A row holds where and when (session, place, date, service) and the coarse attributes the
answer came with, and the nine scores; never a pseudonym, a ticket or a check-in id (the
event carries none), so no row here links an answer to a person or to a ticket fact.
"""

import datetime as dt
from typing import Any

from sqlalchemy import delete
from sqlmodel import AutoString, Field, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events import SurveyAnsweredV1
from botram_contracts.vocabulary import Level
from botram_reporting.domain.ikm import ComputeIkm
from botram_reporting.store import ServiceTable, upsert_rows


class SurveyAnswerFact(ServiceTable, table=True):
    __tablename__ = "report_survey_answers"

    id: str = Field(primary_key=True, max_length=36, description="The answer's random survey id")
    session_id: str = Field(index=True, max_length=36)
    level: Level = Field(sa_type=AutoString(length=16))
    kecamatan: str = Field(max_length=80)
    desa: str | None = Field(default=None, max_length=80)
    day: dt.date = Field(index=True, description="The session's date")
    service: str = Field(max_length=80)
    agency: str = Field(max_length=80)
    sex: str | None = Field(default=None, max_length=1)
    age_band: str | None = Field(default=None, max_length=8)
    resident: bool | None = None
    u1: int
    u2: int
    u3: int
    u4: int
    u5: int
    u6: int
    u7: int
    u8: int
    u9: int

    def scores(self) -> tuple[int, ...]:
        return (self.u1, self.u2, self.u3, self.u4, self.u5, self.u6, self.u7, self.u8, self.u9)


def answer_row(data: SurveyAnsweredV1) -> dict[str, Any]:
    """An answer's row from its event: every field, under the row's names."""
    row = data.model_dump(exclude={"survey_id", "date"})
    return row | {"id": data.survey_id, "day": data.date}


async def write_answers(tx: AsyncSession, answers: list[SurveyAnsweredV1]) -> None:
    """Store the answers (one upsert; an answer stored already is written again)."""
    await upsert_rows(tx, SurveyAnswerFact, (answer_row(a) for a in answers))


async def answers_for(tx: AsyncSession, question: ComputeIkm) -> list[SurveyAnswerFact]:
    """The answers an IKM report counts, in a stable order."""
    query = select(SurveyAnswerFact)
    if question.start is not None:
        query = query.where(col(SurveyAnswerFact.day) >= question.start)
    if question.end is not None:
        query = query.where(col(SurveyAnswerFact.day) <= question.end)
    if question.agency is not None:
        query = query.where(col(SurveyAnswerFact.agency) == question.agency)
    if question.service is not None:
        query = query.where(col(SurveyAnswerFact.service) == question.service)
    if question.level is not None:
        query = query.where(col(SurveyAnswerFact.level) == question.level)
    if question.session_id is not None:
        query = query.where(col(SurveyAnswerFact.session_id) == question.session_id)
    return list((await tx.exec(query.order_by(col(SurveyAnswerFact.id)))).all())


async def clear_answers(tx: AsyncSession) -> None:
    """Forget every answer (a rebuild replays them from the stream)."""
    await tx.exec(delete(SurveyAnswerFact))
