"""Reporting HTTP routes."""

from collections import defaultdict

from fastapi import APIRouter, Request
from pydantic import BaseModel

from botram_reporting import domain
from botram_reporting.handlers import Reporting

router = APIRouter(prefix="/v1/reports", tags=["reports"])


class ServiceReport(BaseModel):
    service: str
    tickets: int
    served: int
    referred: int
    rejected: int
    no_shows: int


class SessionReport(BaseModel):
    session_id: str
    level: str | None
    status: str | None
    checkins: int
    tickets: int
    services: list[ServiceReport]


@router.get("/sessions/{session_id}")
async def session_report(session_id: str, request: Request) -> SessionReport:
    """What one session achieved: check-ins, tickets and outcomes per service."""
    reporting: Reporting = request.app.state.reporting
    values = reporting.aggregates.values
    per_service: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for name, field in (
        (domain.SESSION_TICKETS, "tickets"),
        (domain.SESSION_NO_SHOWS, "no_shows"),
        (domain.SESSION_COMPLETED, None),
    ):
        for key, value in values.get(name, {}).items():
            labels = dict(key)
            if labels["session_id"] == session_id:
                per_service[labels["service"]][field or labels["outcome"]] += int(value)
    level, status = reporting.aggregates.sessions.get(session_id, (None, None))
    services = [
        ServiceReport(
            service=code,
            **{k: counts.get(k, 0) for k in ServiceReport.model_fields if k != "service"},
        )
        for code, counts in sorted(per_service.items())
    ]
    return SessionReport(
        session_id=session_id,
        level=level,
        status=status,
        checkins=int(reporting.aggregates.get(domain.SESSION_CHECKINS, session_id=session_id)),
        tickets=sum(s.tickets for s in services),
        services=services,
    )
