"""Schemathesis against each service's own `/openapi.json`, in process over ASGI: no request it
generates gets a 5xx, and no answer breaks the schema the service publishes (its status's
documented body, problem+json for every error)."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

SERVICES = ("scheduler", "registry", "notifier", "reporting")
EXAMPLES_PER_OPERATION = 25
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.mark.parametrize("service", SERVICES)
async def test_every_operation_keeps_to_its_published_schema(
    service: str, fleet: Any, explore: Callable[..., Awaitable[None]]
) -> None:
    client = fleet.clients[service]
    document = (await client.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    # A live stream (the registry's display, text/event-stream) never ends, so it cannot be
    # answered in full here: the browser tests drive it.
    operations = [
        operation
        for operation in (result.ok() for result in schema.get_all_operations())
        if "text/event-stream"
        not in operation.definition.raw.get("responses", {}).get("200", {}).get("content", {})
    ]
    assert operations

    for operation in operations:
        known = {
            name: values[0]
            for name, values in fleet.known.items()
            if "{" + name + "}" in operation.path
        }
        strategy = operation.as_strategy(path_parameters=known or None)

        async def check(case: Any) -> None:
            request = case.as_transport_kwargs(base_url=str(client.base_url))
            answer = await client.request(
                request["method"],
                request["url"],
                params=request.get("params"),
                json=request.get("json"),
                content=request.get("data"),
                headers={k: v for k, v in request["headers"].items() if k.lower() != "user-agent"},
            )
            case.validate_response(answer, checks=CHECKS)

        await explore(strategy, check, EXAMPLES_PER_OPERATION)
