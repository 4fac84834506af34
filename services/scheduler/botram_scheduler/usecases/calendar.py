"""The Botram calendar as iCalendar (RFC 5545), for planners' and citizens' calendar apps.

The regency names the calendar and its product, and its domain (`BOTRAM_CALENDAR_DOMAIN`)
ends every UID: two regencies' calendars in one app never clash.
"""

from collections.abc import Iterable
from datetime import datetime

from icalendar import Calendar, Event

from botram_contracts.reference import Regency
from botram_contracts.vocabulary import Level, SessionStatus
from botram_runtime.clock import JAKARTA, as_utc
from botram_scheduler.deps import Deps
from botram_scheduler.domain.places import place_filter
from botram_scheduler.domain.sessions import ExportCalendar
from botram_scheduler.store import BY_DATE, SessionRow, sessions_where

ICS_STATUS = {
    SessionStatus.SCHEDULED: "CONFIRMED",
    SessionStatus.OPENED: "CONFIRMED",
    SessionStatus.CLOSED: "CONFIRMED",
    SessionStatus.CANCELLED: "CANCELLED",
}


async def feed(deps: Deps, command: ExportCalendar) -> bytes:
    """Every session of the place and date range, by date, as one iCalendar document."""
    kecamatan, desa = place_filter(deps.regions, command.kecamatan, command.desa)
    query = sessions_where(start=command.start, end=command.end, kecamatan=kecamatan, desa=desa)
    async with deps.db.session() as tx:
        rows = (await tx.exec(query.order_by(*BY_DATE))).all()
    return render_calendar(rows, deps.regions, deps.settings.calendar_domain)


def session_uid(session_id: str, domain: str) -> str:
    """A session's UID: stable for its whole life, so calendar apps update it in place."""
    return f"{session_id}@{domain}"


def _summary(row: SessionRow, regions: Regency) -> str:
    kecamatan = regions.kecamatan(row.kecamatan)
    if row.level == Level.DESA and row.desa:
        desa = kecamatan.find_desa(row.desa)
        name = desa.name if desa else row.desa
        return f"Botram Masuk Desa {name} (Kecamatan {kecamatan.name})"
    return f"Botram Kecamatan {kecamatan.name}"


def render_calendar(rows: Iterable[SessionRow], regions: Regency, uid_domain: str) -> bytes:
    """One VEVENT per session, times in Asia/Jakarta, cancelled ones as STATUS:CANCELLED."""
    calendar = Calendar()
    calendar.add("prodid", f"-//Pemerintah {regions.name}//Botram Scheduler//ID")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Botram {regions.name}")
    calendar.add("x-wr-timezone", "Asia/Jakarta")
    for row in rows:
        event = Event()
        event.add("uid", session_uid(row.id, uid_domain))
        event.add("dtstamp", as_utc(row.updated_at))
        event.add("last-modified", as_utc(row.updated_at))
        event.add("sequence", row.sequence)
        event.add("dtstart", datetime.combine(row.date, row.start, JAKARTA))
        event.add("dtend", datetime.combine(row.date, row.end, JAKARTA))
        event.add("summary", _summary(row, regions))
        if row.venue:
            event.add("location", row.venue)
        event.add("status", ICS_STATUS[SessionStatus(row.status)])
        event.add("categories", [f"botram-{row.level}"])
        description = f"Layanan: {len(row.services)} jenis"
        if row.status == SessionStatus.CANCELLED and row.status_reason:
            description = f"Dibatalkan: {row.status_reason}"
        event.add("description", description)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    document: bytes = calendar.to_ical()
    return document
