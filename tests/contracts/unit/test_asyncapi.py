"""The committed AsyncAPI documents say exactly what the code publishes and consumes."""

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from botram_contracts.events import EVENT_MODELS
from botram_contracts.samples import SAMPLES
from botram_contracts.subjects import subject_for, subject_template
from botram_runtime.bus_access import SERVICES

DOCS = Path(__file__).resolve().parents[3] / "docs" / "asyncapi"


def document(service: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DOCS / f"{service}.json").read_text())
    return loaded


def channels(service: str, action: str) -> list[dict[str, Any]]:
    doc = document(service)
    names = [
        unquote(op["channel"]["$ref"].rsplit("/", 1)[-1]).replace("~1", "/").replace("~0", "~")
        for op in doc["operations"].values()
        if op["action"] == action
    ]
    return [doc["channels"][name] for name in names]


def matcher(address: str) -> re.Pattern[str]:
    """A channel address (`{token}`s, NATS wildcards `*` and `>`) as a regular expression."""
    parts = []
    for token in address.split("."):
        if token == ">":
            parts.append(r"[^.]+(\.[^.]+)*")
        elif token == "*" or re.fullmatch(r"\{[A-Za-z0-9_-]+\}", token):
            parts.append(r"[^.]+")
        else:
            parts.append(re.escape(token))
    return re.compile(r"\.".join(parts))


@pytest.mark.parametrize("service", SERVICES)
def test_each_published_channel_is_the_subject_the_code_publishes_on(service: str) -> None:
    published = {channel["address"] for channel in channels(service, "send")}

    expected = {subject_template(m) for m in EVENT_MODELS.values() if m.producer == service}
    assert published == expected
    for data in SAMPLES.values():  # a real event's subject fits its channel
        if data.producer == service:
            assert matcher(subject_template(type(data))).fullmatch(subject_for(data))


@pytest.mark.parametrize("service", SERVICES)
def test_every_parameter_is_declared_and_no_correlation_id_dangles(service: str) -> None:
    doc = document(service)

    for channel in doc["channels"].values():
        tokens = set(re.findall(r"\{([A-Za-z0-9_-]+)\}", channel["address"]))
        assert set(channel.get("parameters", {})) == tokens, channel["address"]
        assert all(p["description"] for p in channel.get("parameters", {}).values())
    assert "correlationId" not in json.dumps(doc)


@pytest.mark.parametrize("service", SERVICES)
def test_each_consumed_channel_receives_some_published_subject(service: str) -> None:
    published = [subject_template(m, lambda name: f"x{name}") for m in EVENT_MODELS.values()]

    for channel in channels(service, "receive"):
        pattern = matcher(channel["address"])
        assert any(pattern.fullmatch(subject) for subject in published), channel["address"]
