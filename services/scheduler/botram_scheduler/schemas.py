"""HTTP request and response bodies of the scheduler API."""

import datetime as dt
from datetime import datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Level = Literal["kecamatan", "desa"]


class SessionCreate(BaseModel):
    """A session to put on the calendar by hand."""

    model_config = ConfigDict(extra="forbid")

    level: Level
    kecamatan: str = Field(min_length=1, max_length=80, examples=["Sukatani"])
    desa: str | None = Field(default=None, max_length=80, examples=["Ciantra"])
    date: dt.date
    start: time | None = None
    end: time | None = None
    venue: str | None = Field(default=None, max_length=200)
    services: list[str] | None = Field(
        default=None, description="Service codes; default: the catalogue for the level"
    )


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


class Reschedule(Reason):
    date: dt.date
    start: time | None = None
    end: time | None = None


class SessionPublic(BaseModel):
    """A session as the API shows it."""

    id: str
    level: Level
    kecamatan: str
    desa: str | None
    date: dt.date
    start: time
    end: time
    venue: str | None
    services: list[str]
    quotas: dict[str, int]
    status: str
    origin: str
    status_reason: str | None
    created_at: datetime
    updated_at: datetime


class SessionPage(BaseModel):
    items: list[SessionPublic]
    total: int
    limit: int
    offset: int
