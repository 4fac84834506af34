"""The compose files are valid Compose, and the cluster override really makes a 3-node cluster.

Schema: `compose-spec.json` next to this file is the Compose Specification's JSON schema,
vendored unchanged from the compose-spec/compose-spec repository (file
`schema/compose-spec.json` at commit a08f8d51631b7127ddac3d2c65537db429d0f1d0; Apache
License 2.0). Docker Compose validates every file with that schema before it merges them,
so a key it does not know (a typo, a wrong level) fails here as it would on the host.

The override's meaning is checked on the merged model: `merge()` applies the subset of
Compose's merge rules these files use (mappings merged key by key, `command` and
`healthcheck.test` replaced, `volumes` merged by mount target, other sequences appended).
No Docker engine is needed.
"""

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).with_name("compose-spec.json")
BASE = ROOT / "docker-compose.yml"
CLUSTER = ROOT / "docker-compose.cluster.yml"
CLUSTER_CONF = ROOT / "deploy" / "nats" / "cluster" / "nats.conf"

SERVICES = ("scheduler", "registry", "notifier", "reporting")
NODES = ("nats", "nats-2", "nats-3")
LAME_DUCK_SECONDS = 30
REPLACED = {"command", "entrypoint", "test"}


@cache
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def errors(document: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator().iter_errors(document)
    ]


def mount_target(volume: str | dict[str, Any]) -> str:
    if isinstance(volume, dict):
        return str(volume["target"])
    parts = volume.split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def merge(base: Any, override: Any, key: str = "") -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for name, value in override.items():
            merged[name] = merge(base[name], value, name) if name in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list) and key not in REPLACED:
        if key == "volumes":
            by_target = {mount_target(volume): volume for volume in base}
            by_target.update({mount_target(volume): volume for volume in override})
            return list(by_target.values())
        return base + [item for item in override if item not in base]
    return override


@cache
def cluster() -> dict[str, Any]:
    merged: dict[str, Any] = merge(load(BASE), load(CLUSTER))
    return merged


def environment(service: str) -> dict[str, str]:
    return {key: str(value) for key, value in cluster()["services"][service]["environment"].items()}


def hostnames(service: str) -> set[str]:
    networks = cluster()["services"][service].get("networks") or {}
    aliases = {
        alias for network in networks.values() for alias in (network or {}).get("aliases", [])
    }
    return {service, *aliases}


def seconds(duration: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert parts, duration
    return sum(float(number) * units[unit] for number, unit in parts)


# --- the schema --------------------------------------------------------------------------


@pytest.mark.parametrize("path", [BASE, CLUSTER], ids=lambda path: path.name)
def test_compose_file_is_valid_against_the_compose_specification(path: Path) -> None:
    assert errors(load(path)) == []


def test_the_merged_cluster_deployment_is_valid_too() -> None:
    assert errors(cluster()) == []


def test_the_schema_catches_what_compose_would_refuse() -> None:
    document = load(BASE)
    document["services"]["registry"]["enviroment"] = {"BOTRAM_ENV": "production"}
    document["services"]["nats"]["healthcheck"]["interval"] = 10

    found = errors(document)

    assert any("enviroment" in error for error in found), found
    assert any(error.startswith("services/nats/healthcheck/interval") for error in found), found


# --- the cluster override ----------------------------------------------------------------


def test_the_override_only_changes_services_that_exist_besides_its_nodes() -> None:
    base, override = load(BASE)["services"], load(CLUSTER)["services"]

    assert set(override) - set(base) == set(NODES) - {"nats"}
    assert set(SERVICES) <= set(override)


@pytest.mark.parametrize("node", NODES)
def test_every_node_runs_the_shipped_cluster_config_on_a_store_of_its_own(node: str) -> None:
    definition = cluster()["services"][node]
    command = definition["command"]
    config = command[command.index("-c") + 1]

    assert f"./deploy/nats/cluster/nats.conf:{config}:ro" in definition["volumes"]
    assert CLUSTER_CONF.exists()
    (data,) = [volume for volume in definition["volumes"] if mount_target(volume) == "/data"]
    assert data.split(":")[0] == f"nats-{NODES.index(node) + 1}-data"
    assert "8222/healthz" in " ".join(definition["healthcheck"]["test"])
    assert definition["stop_signal"] == "SIGUSR2"
    assert seconds(definition["stop_grace_period"]) > LAME_DUCK_SECONDS


def test_nodes_have_distinct_names_and_route_to_every_node() -> None:
    names = {environment(node)["NATS_SERVER_NAME"] for node in NODES}
    routes = {environment(node)["NATS_ROUTES"] for node in NODES}

    assert len(names) == len(NODES)
    (only,) = routes
    targets = re.findall(r"nats://([\w.-]+):(\d+)", only)
    assert {port for _, port in targets} == {"6222"}
    assert len(targets) == len(NODES)
    for node in NODES:
        assert len(hostnames(node) & {host for host, _ in targets}) == 1, node
    assert "6222" not in json.dumps(cluster()["services"]["nats"].get("ports", []))


@pytest.mark.parametrize("node", NODES)
def test_every_node_knows_the_botram_users_public_keys(node: str) -> None:
    keys = {name for name in environment(node) if name.startswith("BOTRAM_NATS_")}

    assert keys == {f"BOTRAM_NATS_{user}_NKEY" for user in (*map(str.upper, SERVICES), "OPS")}


@pytest.mark.parametrize("service", SERVICES)
def test_services_know_every_node_and_wait_for_all_of_them(service: str) -> None:
    definition = cluster()["services"][service]
    urls = environment(service)["BOTRAM_NATS_URL"].split(",")
    hosts = {re.fullmatch(r"nats://([\w.-]+):4222", url)[1] for url in urls}  # type: ignore[index]

    for node in NODES:
        assert hosts & hostnames(node), f"{service} does not list {node}"
        assert definition["depends_on"][node]["condition"] == "service_healthy"
    assert definition["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert environment(service)["BOTRAM_ENV"] == "production"


def test_the_cluster_stores_are_declared_and_not_the_single_nodes() -> None:
    stores = [
        volume.split(":")[0]
        for node in NODES
        for volume in cluster()["services"][node]["volumes"]
        if mount_target(volume) == "/data"
    ]

    assert stores == ["nats-1-data", "nats-2-data", "nats-3-data"]
    assert set(stores) <= set(cluster()["volumes"])
