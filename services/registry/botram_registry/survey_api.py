"""The satisfaction survey's JSON route (contract, "Additions"): a served ticket's holder
answers the nine SKM elements once, by the ticket's status code (public, no sign-in).

The same rules as `api.py`: parse, call a use case, map its result.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from botram_registry.deps import DepsDep
from botram_registry.domain.survey import AnswerSurvey
from botram_registry.schemas import SurveyAnsweredPublic, SurveyAnswersCreate
from botram_registry.usecases import survey
from botram_runtime.access import public

router = APIRouter(prefix="/v1", tags=["screens"], dependencies=[Depends(public())])
StatusCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,32}$")]


@router.post("/ticket-status/{code}/survey", status_code=201)
async def answer_survey(
    code: StatusCode, body: SurveyAnswersCreate, deps: DepsDep
) -> SurveyAnsweredPublic:
    """Answer the satisfaction survey of a served ticket, once (409 otherwise); anonymous."""
    scores = (body.u1, body.u2, body.u3, body.u4, body.u5, body.u6, body.u7, body.u8, body.u9)
    state = await survey.answer_survey(deps, AnswerSurvey(code, scores))
    return SurveyAnsweredPublic(survey=state)
