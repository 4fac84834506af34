"""JSON Schemas of every event (the envelope with its typed data), generated from the models."""

import json

from botram_contracts.events import EVENT_MODELS, CloudEvent


def render_schemas() -> dict[str, str]:
    """File name -> JSON Schema text, one per event type (e.g. botram.session.scheduled.v1.json)."""
    rendered = {}
    for event_type, model in sorted(EVENT_MODELS.items()):
        schema = CloudEvent[model].model_json_schema(by_alias=True)  # type: ignore[valid-type]
        schema["properties"]["type"]["const"] = event_type
        schema["$id"] = f"https://botram.bekasikab.go.id/schemas/{event_type}.json"
        schema["title"] = event_type
        schema["description"] = (model.__doc__ or "").strip()
        rendered[f"{event_type}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return rendered
