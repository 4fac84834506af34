"""The catalogue an integrator reads before subscribing: agencies, their services, and the
event types agencies may read with their subject, schema and a sample."""

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from botram_contracts.events import EVENT_MODELS
from botram_contracts.reference import Agency, Service
from botram_contracts.samples import sample_json
from botram_contracts.schemas import render_schemas
from botram_contracts.subjects import subject_template
from botram_notifier.deps import Deps
from botram_notifier.domain.subscriptions import agency_event_types
from botram_runtime.errors import DomainError, NotFound

SCHEMA_PATH = "/v1/schemas/{event_type}"


@dataclass(frozen=True, slots=True)
class EventTypeEntry:
    type: str
    subject: str
    schema_url: str
    description: str
    sample: dict[str, Any]


def agencies(deps: Deps) -> list[Agency]:
    """Every agency of the catalogue, by slug."""
    return sorted(deps.catalogue.agencies.values(), key=lambda a: a.slug)


def agency_services(deps: Deps, agency: str) -> list[Service]:
    """An agency's services; an unknown agency is not found, with the valid slugs."""
    if agency not in deps.catalogue.agencies:
        valid = sorted(deps.catalogue.agencies)
        raise DomainError(
            f"agency {agency} does not exist; valid: {', '.join(valid)}",
            code="agency-not-found",
            status=404,
            valid=valid,
        )
    return deps.catalogue.for_agency(agency)


def event_types() -> list[EventTypeEntry]:
    """The event types agencies may read, each with its subject pattern, schema and sample."""
    return [
        EventTypeEntry(
            type=event_type,
            subject=subject_template(EVENT_MODELS[event_type]),
            schema_url=SCHEMA_PATH.format(event_type=event_type),
            description=(EVENT_MODELS[event_type].__doc__ or "").strip(),
            sample=sample_json(event_type),
        )
        for event_type in agency_event_types()
    ]


def event_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of a public event type (private ones are not found, like unknown)."""
    schema = _schemas().get(event_type)
    if schema is None:
        raise NotFound("event type", event_type)
    return schema


@cache
def _schemas() -> dict[str, dict[str, Any]]:
    return {
        name.removesuffix(".json"): json.loads(text)
        for name, text in render_schemas().items()
        if not EVENT_MODELS[name.removesuffix(".json")].private
    }
