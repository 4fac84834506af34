"""No request makes a service answer 5xx: Hypothesis throws generated bodies, query strings
and path parameters at every route of every service, with a token that passes every access
check, and each answer is a success or a problem+json 4xx (issue 13, "How we will check it").

Values are drawn from each operation's own schema (so requests get past the first field and
reach the rules, the stores and the bus) mixed with what breaks naive code: control and bidi
characters, lone surrogates, dates in year 1 and 9999, times without a zone, URLs IDNA cannot
encode, long strings, wrong types, bodies that are not JSON at all.
"""

import json
import string
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from fastapi import FastAPI
from hypothesis import strategies as st

from botram_runtime.access import api_routes
from helpers import assert_problem

SERVICES = ("scheduler", "registry", "notifier", "reporting")
EXAMPLES_PER_ROUTE = 25

# What the issue found answering 500, and their relatives.
NASTY_STRINGS = [
    "",
    " ",
    "\x00",
    "nama\x00",
    "\u202e\u0000meja",
    "\u2066meja\u2069",
    "\ud800",
    "\x1b[31m",
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00:00+05:00",
    "2024-07-06T08:00:00",
    "9999-12-31T23:59:59.999999+14:00",
    "http://a..b/",
    "http://" + "a" * 64 + ".example/",
    "http://[::1",
    "http://[2002:a9fe:a9fe::1]/",
    "https://\u0000.example/",
    "3216054507900001",
    "../../etc/passwd",
    "' OR 1=1 --",
    "NaN",
    "-1",
    "1e309",
]
# Days and moments at and past the edges of what arithmetic on them survives.
EDGE_DAYS = ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01", "2024-02-30"]
EDGE_MOMENTS = [
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-12:00",
    "2024-07-06T08:00:00",
    "2024-07-06T08:00:00+07:00",
]
text = st.one_of(
    st.sampled_from(NASTY_STRINGS),
    st.integers(min_value=200, max_value=5000).map(lambda n: "x" * n),
    st.text(max_size=40),
    st.text(alphabet=string.printable, max_size=20),
)
scalars = st.one_of(
    text,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
)
junk = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=8,
)


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def value_for(document: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> Any:
    """Values shaped like `schema` (often valid, often not quite), or junk."""
    schema = _resolve(document, schema)
    if depth > 3:
        return junk
    shaped: st.SearchStrategy[Any]
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema["oneOf"]
        shaped = st.one_of([value_for(document, option, depth + 1) for option in options])
    elif "enum" in schema:
        shaped = st.sampled_from(schema["enum"])
    elif "const" in schema:
        shaped = st.just(schema["const"])
    elif schema.get("type") == "object" or "properties" in schema:
        properties = {
            name: value_for(document, child, depth + 1)
            for name, child in schema.get("properties", {}).items()
        }
        shaped = st.fixed_dictionaries({}, optional=properties)
    elif schema.get("type") == "array":
        shaped = st.lists(value_for(document, schema.get("items", {}), depth + 1), max_size=3)
    elif schema.get("format") == "date":
        shaped = st.one_of(st.sampled_from(EDGE_DAYS), st.dates().map(str), text)
    elif schema.get("format") == "date-time":
        shaped = st.one_of(
            st.sampled_from(EDGE_MOMENTS),
            st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()),
            text,
        )
    elif schema.get("type") == "integer":
        shaped = st.integers(min_value=-(2**70), max_value=2**70)
    elif schema.get("type") == "boolean":
        shaped = st.booleans()
    else:
        shaped = text
    return st.one_of(shaped, shaped, junk)


def _operation(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = document.get("paths", {}).get(path, {}).get(method.lower(), {})
    return found


def _query_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def body_schema(document: dict[str, Any], path: str, method: str) -> dict[str, Any] | None:
    content = _operation(document, path, method).get("requestBody", {}).get("content", {})
    return content.get("application/json", {}).get("schema")


def _streams(document: dict[str, Any], path: str, method: str) -> bool:
    """Whether the operation answers Server-Sent Events."""
    answers = _operation(document, path, method).get("responses", {})
    return "text/event-stream" in answers.get("200", {}).get("content", {})


def requests_for(
    app: FastAPI, document: dict[str, Any], known: dict[str, list[str]]
) -> list[tuple[str, st.SearchStrategy[dict[str, Any]]]]:
    """(route, strategy of request arguments) for every API route of an app."""
    found = []
    for method, path, route in api_routes(app):
        if _streams(document, path, method):
            continue  # a live stream (the display) never ends: the browser tests drive it
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        path_values = {
            # Lone surrogates go out as the bytes they would be: invalid UTF-8.
            name: st.one_of(st.sampled_from(known.get(name, ["x"])), text).map(
                lambda v: quote(v, safe="", errors="surrogatepass")
            )
            for name in names
        }
        declared = {
            parameter["name"]: parameter.get("schema", {})
            for parameter in _operation(document, path, method).get("parameters", [])
            if parameter.get("in") == "query"
        }
        query = {
            field.alias: st.one_of(
                value_for(document, declared.get(field.alias, {})).map(_query_value),
                st.lists(text, min_size=1, max_size=2),
            )
            for field in route.dependant.query_params
        }
        schema = body_schema(document, path, method)
        bodies: st.SearchStrategy[Any] = st.none()
        if method in ("POST", "PUT", "PATCH"):
            shaped = value_for(document, schema) if schema else junk
            bodies = st.one_of(
                shaped.map(lambda b: json.dumps(b).encode()),
                st.binary(max_size=64),
                st.none(),
            )

        def build(values: dict[str, Any], path: str = path, method: str = method) -> dict[str, Any]:
            url = path
            for name, value in values["path"].items():
                url = url.replace("{" + name + "}", value or "x")
            if values["query"]:
                url += "?" + urlencode(values["query"], doseq=True, errors="surrogatepass")
            return {"method": method, "url": url, "content": values["body"]}

        strategy = st.fixed_dictionaries(
            {
                "path": st.fixed_dictionaries(path_values),
                "query": st.fixed_dictionaries({}, optional=query),
                "body": bodies,
            }
        ).map(build)
        found.append((f"{method} {path}", strategy))
    return found


@pytest.mark.parametrize("service", SERVICES)
async def test_no_generated_request_gets_a_server_error(
    service: str,
    fleet: Any,
    explore: Callable[..., Awaitable[None]],
) -> None:
    app, client = fleet.apps[service], fleet.clients[service]
    document = (await client.get("/openapi.json")).json()
    seen: dict[str, int] = {}

    for route, requests in requests_for(app, document, fleet.known):

        async def check(request: dict[str, Any], route: str = route) -> None:
            headers = {"content-type": "application/json"} if request["content"] else {}
            answer = await client.request(**request, headers=headers)
            seen[route] = seen.get(route, 0) + 1
            assert answer.status_code < 500, f"{route} {request!r}: {answer.text[:300]}"
            if answer.status_code >= 400:
                assert answer.headers["content-type"] == "application/problem+json", route

        await explore(requests, check, EXAMPLES_PER_ROUTE)

    assert seen and all(count >= 1 for count in seen.values())


async def test_the_inputs_the_issue_found_are_refused_as_problems(fleet: Any) -> None:
    scheduler, registry, notifier, reporting = (fleet.clients[n] for n in SERVICES)
    session_id = fleet.known["session_id"][0]
    subscription_id = fleet.known["subscription_id"][0]
    item = {
        "nik": "3216054507900001",
        "name": "Siti Aminah",
        "services": ["dukcapil-kk"],
        "client_id": "c-1",
        "recorded_at": "0001-01-01T00:00:00+05:00",
    }

    refused = [
        await registry.post(f"/v1/sessions/{session_id}/check-ins:batch", json={"items": [item]}),
        await notifier.post(
            f"/v1/subscriptions/{subscription_id}/replay", json={"since": "2024-07-06T08:00:00"}
        ),
        await notifier.post(
            f"/v1/subscriptions/{subscription_id}/replay", json={"since": "0001-01-01T00:00:00Z"}
        ),
        await reporting.get("/v1/reports/demand", params={"to": "0001-01-01"}),
        await reporting.get("/v1/reports/summary", params={"from": "9999-12-31"}),
        await scheduler.post(
            "/v1/schedule/generate", json={"from": "2030-01-01", "to": "9999-12-31"}
        ),
        await scheduler.get("/v1/audit", params={"since": "2024-07-06T08:00:00"}),
        await registry.post(
            f"/v1/sessions/{session_id}/check-ins",
            json={"nik": "3216054507900001", "name": "Siti\x00", "services": ["dukcapil-kk"]},
        ),
        await registry.post(
            f"/v1/sessions/{session_id}/services/dukcapil-kk/call-next",
            json={"desk": "\u202e\u0000meja"},
        ),
        await registry.get(f"/v1/sessions/{session_id}%00/queue"),
        await scheduler.get("/v1/sessions", params={"kecamatan": "suka\x00tani"}),
    ]
    for url in ("http://a..b/", f"https://{'a' * 64}.example/", "http://[::1"):
        refused.append(
            await notifier.post(
                "/v1/subscriptions",
                json={"agency": "dukcapil", "url": url, "event_types": ["botram.ticket.called.v1"]},
            )
        )

    for answer in refused:
        assert_problem(answer, 422)


async def test_a_body_over_the_limit_is_refused_before_it_is_read(fleet: Any) -> None:
    registry = fleet.clients["registry"]
    session_id = fleet.known["session_id"][0]
    twenty_megabytes = b'{"items": [' + b" " * (20 * 1024 * 1024) + b"]}"

    declared = await registry.post(
        f"/v1/sessions/{session_id}/check-ins:batch",
        content=twenty_megabytes,
        headers={"content-type": "application/json"},
    )

    async def chunks() -> Any:  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b" " * (1024 * 1024)

    streamed = await registry.post(
        f"/v1/sessions/{session_id}/check-ins:batch",
        content=chunks(),
        headers={"content-type": "application/json"},
    )

    assert_problem(declared, 413, "body-too-large")
    assert_problem(streamed, 413, "body-too-large")
