"""The satisfaction survey's IKM report (contract, "Additions"): JSON or CSV, for viewers.

The same rules as `api.py`: parse, call a use case, map its result.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from botram_contracts.vocabulary import Level
from botram_reporting.deps import DepsDep
from botram_reporting.domain.ikm import ComputeIkm
from botram_reporting.schemas import IkmPublic, rows_csv
from botram_reporting.usecases import ikm
from botram_runtime.access import allow
from botram_runtime.actors import Role
from botram_runtime.inputs import Day, Slug

router = APIRouter(prefix="/v1/reports", tags=["reports"])
READERS = [Depends(allow(Role.VIEWER, Role.OPERATOR, Role.PLANNER))]
CSV = {"content": {"text/csv": {}}, "model": IkmPublic, "description": "JSON or CSV"}


@router.get("/ikm", response_model=None, responses={200: CSV}, dependencies=READERS)
async def ikm_report(
    deps: DepsDep,
    start: Annotated[Day | None, Query(alias="from", description="First day (inclusive)")] = None,
    end: Annotated[Day | None, Query(alias="to", description="Last day (inclusive)")] = None,
    agency: Annotated[Slug | None, Query()] = None,
    service: Annotated[Slug | None, Query()] = None,
    level: Level | None = None,
    format: Literal["json", "csv"] = "json",
) -> IkmPublic | Response:
    """The satisfaction survey's IKM (PermenPAN-RB 14/2017) per agency and service, and per
    agency, session, kecamatan and month: answers, each element's mean, IKM and band."""
    question = ComputeIkm(start, end, agency, service, level)
    if format == "csv":
        return Response(
            rows_csv(await ikm.ikm_table(deps, question)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="botram-ikm.csv"'},
        )
    return IkmPublic.of(await ikm.compute_ikm(deps, question))
