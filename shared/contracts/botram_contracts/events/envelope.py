"""The CloudEvents 1.0 envelope (structured mode, JSON) that every Botram event travels in."""

from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from botram_contracts.ids import new_id

DataT = TypeVar("DataT")


class EventData(BaseModel):
    """Base of every event's `data`: consumers ignore fields they do not know (tolerant reader)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class CloudEvent(BaseModel, Generic[DataT]):
    """A CloudEvents 1.0 structured-mode event with typed `data`."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: UUID = Field(default_factory=new_id)
    source: str = Field(pattern=r"^/botram/[a-z0-9-]+$")
    type: str = Field(pattern=r"^botram\.[a-z_]+\.[a-z_]+\.v[0-9]+$")
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str
    datacontenttype: Literal["application/json"] = "application/json"
    data: DataT


RawCloudEvent = CloudEvent[dict[str, Any]]
"""An envelope whose `data` is not yet bound to a model (the first step of decoding)."""


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC (events never carry naive times)."""
    return datetime.now(UTC)
