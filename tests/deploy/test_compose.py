"""docker-compose.yml and deploy/ agree with the code they deploy.

Compose cannot run where the suite runs (no Docker engine), so these tests read the files and
check them against what the services really accept: each service's `Settings` (ports,
`BOTRAM_*` variables, production secrets) and its FastAPI app (the routes a healthcheck or
Prometheus probes). The apps are built, never started: nothing here touches the network.
"""

import importlib
import json
import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from fastapi import FastAPI
from pydantic import AliasChoices, ValidationError
from pydantic.fields import FieldInfo
from sqlalchemy.engine import make_url

from botram_notifier.adapters import nats_accounts

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
NATS_CONF = ROOT / "deploy" / "nats" / "nats.conf"
POSTGRES_INIT = ROOT / "deploy" / "postgres" / "init.sql"
PROMETHEUS_CONF = ROOT / "deploy" / "prometheus" / "prometheus.yml"

SERVICES = ("scheduler", "registry", "notifier", "reporting")
# What an operator exports before `docker compose up` (compose refuses to start without it).
OPERATOR_ENV = {
    "BOTRAM_PSEUDONYM_KEY": "a-real-secret-from-the-operator-of-32-bytes",
    "BOTRAM_OPT_OUT_KEY": "another-real-secret-of-the-operator-32-bytes",
    "BOTRAM_POSTGRES_DATABASE_PASSWORD": "pw-postgres",
    **{f"BOTRAM_{s.upper()}_DATABASE_PASSWORD": f"pw-{s}" for s in SERVICES},
    **{f"BOTRAM_NATS_{u.upper()}_NKEY": f"U-{u}" for u in (*SERVICES, "ops")},
    **{f"BOTRAM_NATS_{u.upper()}_SEED": f"SU-{u}" for u in (*SERVICES, "ops")},
}
HEALTH_PATHS = {"/readyz", "/healthz"}

INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


# --- reading the files -------------------------------------------------------------------


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def compose_service(name: str) -> dict[str, Any]:
    return compose()["services"][name]


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's variable interpolation: `${X}`, `${X:-default}`, `${X:?error}`, `$$`."""

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        current = env.get(name)
        if op is None:
            return current or ""
        unset = current is None or (op.startswith(":") and current == "")
        if op.endswith("-"):
            return arg if unset else str(current)
        if unset:
            raise KeyError(f"compose requires ${name}: {arg}")
        return str(current)

    return INTERPOLATION.sub(replace, value.replace("$$", "\0")).replace("\0", "$")


def raw_environment(service: str) -> dict[str, str]:
    """The service's `environment`, uninterpolated (mapping or `KEY=VALUE` list form)."""
    environment = compose_service(service).get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def environment(service: str, operator_env: Mapping[str, str] = OPERATOR_ENV) -> dict[str, str]:
    return {
        key: interpolate(value, operator_env) for key, value in raw_environment(service).items()
    }


def published_ports(service: str) -> list[tuple[int, int]]:
    """(host port, container port) pairs, from the short or the long `ports` syntax."""
    pairs = []
    for entry in compose_service(service).get("ports", []):
        if isinstance(entry, dict):
            pairs.append((int(entry["published"]), int(entry["target"])))
        else:
            *_, host, container = str(entry).split("/")[0].split(":")
            pairs.append((int(host), int(container)))
    return pairs


def healthcheck_url(service: str) -> str:
    test = compose_service(service)["healthcheck"]["test"]
    command = test if isinstance(test, str) else " ".join(test)
    urls = re.findall(r"https?://[^\s'\"]+", command)
    assert len(urls) == 1, f"{service}: expected one URL in the healthcheck, got {command!r}"
    return urls[0]


@cache
def dockerfile() -> list[tuple[str | None, str, str]]:
    """(stage, INSTRUCTION, arguments) of each Dockerfile instruction, continuations joined."""
    instructions: list[tuple[str | None, str, str]] = []
    stage = None
    for line in re.sub(r"\\\n", " ", DOCKERFILE.read_text()).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            named = re.search(r"\s+AS\s+(\S+)\s*$", arguments, re.IGNORECASE)
            stage = named[1] if named else "(final)"
        instructions.append((stage, instruction, arguments.strip()))
    return instructions


def stage_instructions(stage: str, instruction: str) -> list[str]:
    return [args for name, kind, args in dockerfile() if name == stage and kind == instruction]


def uncommented(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def postgres_init() -> str:
    return re.sub(r"--[^\n]*", "", POSTGRES_INIT.read_text())


def postgres_databases() -> set[str]:
    """The databases the PostgreSQL init script creates."""
    return set(re.findall(r"CREATE\s+DATABASE\s+\"?(\w+)\"?", postgres_init(), re.I))


def postgres_roles() -> dict[str, str]:
    """Login role → the environment variable its password comes from (init script)."""
    sql = postgres_init()
    variables = dict(re.findall(r"\\getenv\s+(\w+)\s+(\w+)", sql))
    found = re.findall(r"CREATE\s+ROLE\s+(\w+)\s+LOGIN\s+PASSWORD\s+:'(\w+)'", sql, re.I)
    return {role: variables[variable] for role, variable in found}


def connect_grants() -> dict[str, set[str]]:
    """Database → the roles granted CONNECT on it (init script)."""
    grants: dict[str, set[str]] = {}
    for database, role in re.findall(
        r"GRANT\s+CONNECT[\w\s,]*ON\s+DATABASE\s+(\w+)\s+TO\s+(\w+)", postgres_init(), re.I
    ):
        grants.setdefault(database, set()).add(role)
    return grants


# --- reading the code --------------------------------------------------------------------


def settings_class(service: str) -> Any:
    return importlib.import_module(f"botram_{service}.settings").Settings


def default_port(service: str) -> int:
    return int(settings_class(service).model_fields["http_port"].default)


def env_names_of(name: str, field: FieldInfo) -> set[str]:
    """The environment variables pydantic-settings reads a field from (prefix BOTRAM_)."""
    alias = field.validation_alias
    if alias is None:
        return {f"BOTRAM_{name}".upper()}
    if isinstance(alias, str):
        return {alias.upper()}
    if isinstance(alias, AliasChoices):
        return {choice.upper() for choice in alias.choices if isinstance(choice, str)}
    return set()


def known_env_names(service: str) -> dict[str, str]:
    """Environment variable → field name, for every field of the service's Settings."""
    return {
        env_name: name
        for name, field in settings_class(service).model_fields.items()
        for env_name in env_names_of(name, field)
    }


def without_botram_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.upper().startswith("BOTRAM_"):
            monkeypatch.delenv(key)


def settings_in_compose(service: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The service's Settings as its container builds them from the compose environment."""
    without_botram_env(monkeypatch)
    for key, value in environment(service).items():
        monkeypatch.setenv(key, value)
    return settings_class(service)()


def route_paths(app: FastAPI) -> set[str]:
    return {getattr(route, "path", "") for route in app.routes}


def app_in_compose(service: str, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    """The service's app built (not started) from its compose settings."""
    create_app = importlib.import_module(f"botram_{service}.main").create_app
    app: FastAPI = create_app(settings_in_compose(service, monkeypatch))
    return app


# --- the compose file --------------------------------------------------------------------


def test_compose_runs_every_service_of_the_design_with_nats_and_postgres() -> None:
    assert {*SERVICES, "nats", "postgres"} <= set(compose()["services"])


@pytest.mark.parametrize("service", SERVICES)
def test_service_publishes_the_port_its_settings_default_to(service: str) -> None:
    port = default_port(service)

    assert (port, port) in published_ports(service)
    assert environment(service)["BOTRAM_HTTP_PORT"] == str(port)


@pytest.mark.parametrize("service", SERVICES)
def test_every_botram_variable_in_compose_is_a_setting_the_service_reads(service: str) -> None:
    variables = {key.upper() for key in environment(service) if key.upper().startswith("BOTRAM_")}

    unknown = variables - set(known_env_names(service))

    assert not unknown, f"{service} ignores {sorted(unknown)} (Settings has extra='ignore')"


@pytest.mark.parametrize("service", SERVICES)
def test_service_in_compose_runs_in_production_listening_on_all_interfaces(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_in_compose(service, monkeypatch)

    assert raw_environment(service)["BOTRAM_ENV"] == "production"
    assert settings.is_production
    assert settings.http_host == "0.0.0.0"
    assert settings.http_port == default_port(service)
    nats = urlsplit(settings.nats_url)
    assert (nats.scheme, nats.hostname, nats.port) == ("nats", "nats", 4222)


@pytest.mark.parametrize("service", SERVICES)
def test_service_uses_a_postgres_database_of_its_own_created_by_the_init_script(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_url(settings_in_compose(service, monkeypatch).resolved_database_url())
    postgres = compose_service("postgres")["environment"]

    assert url.drivername == "postgresql+asyncpg"
    assert (url.host, url.port) == ("postgres", 5432)
    assert url.database == service
    # Its own role, its password from the operator, the very one init.sql gives that role.
    variable = postgres_roles()[service]
    assert url.username == service
    assert raw_environment(service)["BOTRAM_DATABASE_URL"].count(f"${{{variable}:?") == 1
    assert url.password == OPERATOR_ENV[variable]
    assert postgres[variable] == f"${{{variable}:?set a password}}"
    assert service in postgres_databases()
    assert connect_grants()[service] == {service}
    assert re.search(rf"REVOKE\s+ALL\s+ON\s+DATABASE\s+{service}\s+FROM\s+PUBLIC", postgres_init())


def test_postgres_has_no_literal_password_and_no_shared_application_role() -> None:
    postgres = compose_service("postgres")["environment"]

    assert "POSTGRES_USER" not in postgres  # the superuser keeps its name, for the operator
    assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", postgres["POSTGRES_PASSWORD"])
    for value in postgres.values():
        assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", str(value)), value
    assert set(postgres_roles()) == set(SERVICES)
    assert len(set(postgres_roles().values())) == len(SERVICES)


def test_postgres_runs_the_init_script_on_first_start() -> None:
    volumes = compose_service("postgres")["volumes"]

    assert any(
        volume.startswith("./deploy/postgres/") and ":/docker-entrypoint-initdb.d/" in volume
        for volume in volumes
    )
    assert postgres_databases() == set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_service_starts_after_nats_and_postgres_are_healthy_and_restarts(service: str) -> None:
    definition = compose_service(service)

    for dependency in ("nats", "postgres"):
        assert definition["depends_on"][dependency]["condition"] == "service_healthy"
        assert "healthcheck" in compose_service(dependency)
    assert definition["restart"] == "unless-stopped"


@pytest.mark.parametrize("service", SERVICES)
def test_healthcheck_probes_a_health_route_the_app_really_serves(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = urlsplit(healthcheck_url(service))

    assert url.hostname in {"127.0.0.1", "localhost"}
    assert url.port == default_port(service)
    assert url.path in HEALTH_PATHS
    assert url.path in route_paths(app_in_compose(service, monkeypatch))


@pytest.mark.parametrize("service", SERVICES)
def test_compose_takes_every_production_secret_from_the_operator(service: str) -> None:
    names = known_env_names(service)
    raw = raw_environment(service)

    for field in settings_class(service).secret_fields():
        keys = [key for key in raw if names.get(key.upper()) == field]
        assert keys, f"{service}: production refuses to start without {field}"
        for key in keys:
            assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", raw[key]), f"{key} must not be a literal"
            with pytest.raises(KeyError):
                environment(service, operator_env={})


def test_registry_refuses_production_without_a_real_pseudonym_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    without_botram_env(monkeypatch)
    settings = settings_class("registry")
    dev_key = settings.model_fields["pseudonym_key"].default.get_secret_value()

    with pytest.raises(ValidationError, match="BOTRAM_PSEUDONYM_KEY"):
        settings(env="production")
    with pytest.raises(ValidationError, match="BOTRAM_PSEUDONYM_KEY"):
        settings(env="production", pseudonym_key=dev_key)
    assert settings(
        env="production", pseudonym_key="a-real-secret-of-at-least-32-bytes"
    ).is_production


@pytest.mark.parametrize("service", SERVICES)
def test_production_refuses_to_start_without_an_identity_provider(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_in_compose(service, monkeypatch).model_copy(update={"auth_jwks_url": None})
    create_app = importlib.import_module(f"botram_{service}.main").create_app

    with pytest.raises(ValueError, match="BOTRAM_AUTH_ISSUER and BOTRAM_AUTH_JWKS_URL"):
        create_app(settings)


@pytest.mark.parametrize("service", SERVICES)
def test_services_in_compose_trust_the_keycloak_realm(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_in_compose(service, monkeypatch)
    realm = json.loads((ROOT / "deploy" / "keycloak" / "botram-realm.json").read_text())

    assert settings.auth_issuer == "http://localhost:8080/realms/botram"
    assert settings.auth_jwks_url == (
        "http://keycloak:8080/realms/botram/protocol/openid-connect/certs"
    )
    assert realm["realm"] == "botram"
    assert {role["name"] for role in realm["roles"]["realm"]} == {
        "planner",
        "operator",
        "front-desk",
        "desk",
        "agency",
        "viewer",
    }


def test_the_keycloak_realm_has_an_example_client_per_role_with_botram_claims() -> None:
    realm = json.loads((ROOT / "deploy" / "keycloak" / "botram-realm.json").read_text())
    service_accounts = {user["serviceAccountClientId"]: user for user in realm["users"]}
    roles_with_a_client = set()

    for client in realm["clients"]:
        mappers = {m["protocolMapper"]: m["config"] for m in client["protocolMappers"]}
        assert mappers["oidc-audience-mapper"]["included.custom.audience"] == "botram"
        assert mappers["oidc-usermodel-realm-role-mapper"]["claim.name"] == "roles"
        if client["clientId"] in service_accounts:
            roles = service_accounts[client["clientId"]]["realmRoles"]
            roles_with_a_client |= set(roles)
            if {"desk", "agency"} & set(roles):
                assert mappers["oidc-hardcoded-claim-mapper"]["claim.name"] == "agency"

    assert roles_with_a_client == {"planner", "operator", "front-desk", "desk", "agency", "viewer"}


# --- the Dockerfile ----------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_service_image_is_built_from_the_shared_dockerfile_for_that_service(service: str) -> None:
    build = compose_service(service)["build"]
    port = default_port(service)
    stage = f"service-{service}"

    assert (ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    assert build["args"]["SERVICE"] == service
    assert stage_instructions(stage, "EXPOSE") == [str(port)]
    assert f"BOTRAM_HTTP_PORT={port}" in stage_instructions(stage, "ENV")


def test_dockerfile_picks_the_stage_and_module_of_the_service_build_arg() -> None:
    global_args = [args for stage, kind, args in dockerfile() if stage is None and kind == "ARG"]
    final_stage, final_kind, final_from = dockerfile()[-1]
    commands = [args for _, kind, args in dockerfile() if kind == "CMD"]

    assert "SERVICE" in global_args
    assert (final_stage, final_kind) == ("(final)", "FROM")
    assert final_from == "service-${SERVICE}"
    assert len(commands) == 1
    assert "python -m" in commands[0] and "botram_${SERVICE}" in commands[0]


def test_dockerfile_installs_only_the_service_package_from_the_lock_without_dev_tools() -> None:
    runs = " ".join(args for _, kind, args in dockerfile() if kind == "RUN")
    froms = [args for _, kind, args in dockerfile() if kind == "FROM"]

    assert "pip install" in runs and "uv" in runs
    assert '--package "botram-${SERVICE}" --frozen --no-dev' in runs
    assert "--all-packages" not in runs
    assert "python:3.11-slim" in DOCKERFILE.read_text()
    assert "COPY --from=build /app/.venv /app/.venv" in {
        f"COPY {args}" for _, kind, args in dockerfile() if kind == "COPY"
    }
    assert len(froms) > 2


def test_container_runs_as_a_non_root_user() -> None:
    users = [args for _, kind, args in dockerfile() if kind == "USER"]

    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}


@pytest.mark.parametrize("service", SERVICES)
def test_image_healthcheck_probes_the_liveness_route_on_the_configured_port(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (healthcheck,) = [args for _, kind, args in dockerfile() if kind == "HEALTHCHECK"]

    assert "urllib" in healthcheck
    assert "${BOTRAM_HTTP_PORT}/healthz" in healthcheck
    assert "/healthz" in route_paths(app_in_compose(service, monkeypatch))


def test_dockerignore_keeps_local_state_and_caches_out_of_the_build_context() -> None:
    entries = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert {".venv", ".tools", "var", ".git", "**/__pycache__", ".pytest_cache"} <= entries


# --- NATS and Prometheus -----------------------------------------------------------------


def test_nats_config_fsyncs_every_jetstream_write() -> None:
    config = uncommented(NATS_CONF.read_text())
    jetstream = re.search(r"jetstream\s*\{(?P<body>[^}]*)\}", config)

    assert jetstream, "nats.conf has no jetstream block"
    assert re.search(r"^\s*sync_interval\s*:\s*always\s*$", jetstream["body"], re.M)
    assert re.search(r"^\s*store_dir\s*:\s*\"?/data/jetstream\"?\s*$", jetstream["body"], re.M)
    assert re.search(r"^\s*(listen|port)\s*:\s*(0\.0\.0\.0:)?4222\s*$", config, re.M)
    assert re.search(r"^\s*(http|http_port)\s*:\s*(0\.0\.0\.0:)?8222\s*$", config, re.M)


def test_compose_runs_nats_with_the_shipped_config_and_a_persistent_store() -> None:
    nats = compose_service("nats")
    command = nats["command"] if isinstance(nats["command"], list) else nats["command"].split()
    config_path = command[command.index("-c") + 1]

    assert "-js" in command
    assert f"./deploy/nats/nats.conf:{config_path}:ro" in nats["volumes"]
    assert any(volume.endswith(":/data") for volume in nats["volumes"])
    assert "8222/healthz" in " ".join(nats["healthcheck"]["test"])


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_connects_to_nats_as_its_own_user(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = raw_environment(service)["BOTRAM_NATS_NKEY_SEED"]

    assert re.fullmatch(rf"\$\{{BOTRAM_NATS_{service.upper()}_SEED:\?[^}}]*\}}", seed)
    settings = settings_in_compose(service, monkeypatch)
    assert settings.nats_nkey_seed.get_secret_value() == f"SU-{service}"
    settings.check_bus_credentials()


def test_the_shipped_nats_configs_carry_the_accounts_the_code_generates() -> None:
    """Regenerate with `python -m botram_notifier agency-credentials` (any agency, or
    `--revoke` of one without credentials) after a change of the contracts or bus_access."""
    block = nats_accounts.accounts_block(nats_accounts.load_registry(NATS_CONF.parent))

    for config in (NATS_CONF, NATS_CONF.parent / "cluster" / "nats.conf"):
        assert block in config.read_text(), f"{config} is stale"


def test_nats_gets_every_users_public_key_that_its_config_reads_and_nothing_else() -> None:
    environment = compose_service("nats")["environment"]
    referenced = set(re.findall(r"nkey:\s*\$(\w+)", uncommented(NATS_CONF.read_text())))

    assert referenced == {f"BOTRAM_NATS_{u.upper()}_NKEY" for u in (*SERVICES, "ops")}
    assert set(environment) == referenced
    for name, value in environment.items():
        assert value == f"${{{name}:?run botram nats-keys}}"
    assert "no_auth_user" not in uncommented(NATS_CONF.read_text())


@pytest.mark.parametrize("service", SERVICES)
def test_prometheus_scrapes_the_metrics_route_of_every_service(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = {
        job["job_name"]: job
        for job in yaml.safe_load(PROMETHEUS_CONF.read_text())["scrape_configs"]
    }
    job = jobs[service]
    targets = [target for config in job["static_configs"] for target in config["targets"]]
    path = job.get("metrics_path", "/metrics")

    assert targets == [f"{service}:{default_port(service)}"]
    assert path in route_paths(app_in_compose(service, monkeypatch))
    assert any(
        volume.startswith("./deploy/prometheus/prometheus.yml:")
        for volume in compose_service("prometheus")["volumes"]
    )
