"""The satisfaction survey's IKM report (contract, "Additions"): JSON, CSV or XLSX, for viewers.

The same rules as `api.py`: parse, call a use case, map its result.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from botram_contracts.vocabulary import Level
from botram_reporting.api_deps import DepsDep
from botram_reporting.domain.ikm import ComputeIkm
from botram_reporting.report_files import XLSX_MEDIA_TYPE, rows_csv, rows_xlsx
from botram_reporting.schemas import IkmPublic
from botram_reporting.usecases import ikm
from botram_runtime.access import allow
from botram_runtime.actors import Role
from botram_runtime.inputs import Day, Slug

router = APIRouter(prefix="/v1/reports", tags=["reports"])
READERS = [Depends(allow(Role.VIEWER, Role.OPERATOR, Role.PLANNER))]
FILES = {
    "content": {"application/json": {}, "text/csv": {}, XLSX_MEDIA_TYPE: {}},
    "model": IkmPublic,
    "description": "JSON, CSV or XLSX",
}


@router.get("/ikm", response_model=None, responses={200: FILES}, dependencies=READERS)
async def ikm_report(
    deps: DepsDep,
    start: Annotated[Day | None, Query(alias="from", description="First day (inclusive)")] = None,
    end: Annotated[Day | None, Query(alias="to", description="Last day (inclusive)")] = None,
    agency: Annotated[Slug | None, Query()] = None,
    service: Annotated[Slug | None, Query()] = None,
    level: Level | None = None,
    session_id: Annotated[str | None, Query(max_length=80, description="One session")] = None,
    format: Literal["json", "csv", "xlsx"] = "json",
) -> IkmPublic | Response:
    """The satisfaction survey's IKM (PermenPAN-RB 14/2017) per agency and service, and per
    agency, session, kecamatan and month: answers, each element's mean, IKM and band."""
    question = ComputeIkm(start, end, agency, service, level, session_id)
    if format != "json":
        rows = await ikm.ikm_table(deps, question)
        about = [
            ("regency", deps.regions.name),
            ("from", start),
            ("to", end),
            ("agency", agency),
            ("service", service),
            ("level", level),
            ("session_id", session_id),
        ]
        body: str | bytes = rows_csv(rows)
        media_type = "text/csv; charset=utf-8"
        if format == "xlsx":
            body, media_type = rows_xlsx(rows, "IKM", about), XLSX_MEDIA_TYPE
        disposition = f'attachment; filename="botram-ikm.{format}"'
        return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})
    return IkmPublic.of(await ikm.compute_ikm(deps, question))
