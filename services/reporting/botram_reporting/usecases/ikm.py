"""The satisfaction survey's IKM (PermenPAN-RB 14/2017) over the stored answers."""

from typing import Any

from botram_reporting import survey_store
from botram_reporting.deps import Deps
from botram_reporting.domain.ikm import ComputeIkm, IkmReport, ikm_report, ikm_rows
from botram_reporting.domain.reports import check_period


async def compute_ikm(deps: Deps, question: ComputeIkm) -> IkmReport:
    """The IKM over the answers matching the question, overall and per breakdown."""
    check_period(question.start, question.end)
    async with deps.db.session() as session:
        answers = await survey_store.answers_for(session, question)
    return ikm_report(question, answers)


async def ikm_table(deps: Deps, question: ComputeIkm) -> list[dict[str, Any]]:
    """The IKM report as flat rows, overall first (`domain.ikm.ikm_rows`): what the CSV (and
    any spreadsheet) writes."""
    return ikm_rows(await compute_ikm(deps, question))
