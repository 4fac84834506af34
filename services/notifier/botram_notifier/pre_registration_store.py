"""A pre-registered citizen's contact: kept to tell them when their session is cancelled,
moved or loses a service they registered for, until they check in (their check-in's contact
takes over), their slot ends without them (released), or the session ends."""

import datetime as dt
from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field

from botram_contracts.events.envelope import utc_now
from botram_notifier.store import ServiceTable


class PreRegistrationContactRow(ServiceTable, table=True):
    """The phone and slot of a pre-registration (from the private subject)."""

    __tablename__ = "pre_registration_contacts"

    pre_registration_id: str = Field(primary_key=True, max_length=36)
    session_id: str = Field(index=True, max_length=36)
    phone: str = Field(max_length=20)
    services: list[str] = Field(sa_column=Column(JSON, nullable=False))
    date: dt.date
    slot_start: dt.time
    slot_end: dt.time
    # When the slot ends (UTC): a pre-registration not checked in by then is released, and
    # its contact goes (`pre_registered.forget_released`).
    releases_at: datetime = Field(index=True)
    received_at: datetime = Field(default_factory=utc_now)
