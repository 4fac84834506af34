"""deploy/k8s renders, is valid Kubernetes, and agrees with the code and the benchmarks.

Each overlay is rendered with `kubectl kustomize` (kubectl with Kustomize 5; CI has it, so a
missing kubectl fails these tests instead of skipping them). Every object is validated offline
with `kubernetes-validate` (strict: unknown fields fail) against the bundled schemas of the
oldest Kubernetes these manifests aim at and of the newest the package knows. Custom
resources have no bundled schema: the only one used, the Prometheus Operator's
ServiceMonitor, is checked structurally below instead, and any other kind without a schema
fails.

Then what matters for running Botram: probes on the routes the apps serve, replicas, PDB and
HPA per service, requests from the memory benchmark, graceful termination, non-root
read-only containers, Secrets only by reference, the services' settings as the code reads
them, NATS running the shipped cluster config, and network policies under which only the
notifier reaches the internet and each service only its own database.
"""

import importlib
import ipaddress
import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import AliasChoices
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "production")
SERVICES = ("scheduler", "registry", "notifier", "reporting")
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
# Kinds without a bundled schema that the manifests may use (checked structurally below).
CUSTOM_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}
NATS_CONF = ROOT / "deploy" / "nats" / "cluster" / "nats.conf"
BENCHMARKS = ROOT / "docs" / "BENCHMARKS.md"
SERVE = ROOT / "shared" / "runtime" / "botram_runtime" / "serve.py"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
GRACE_SECONDS = 30
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|DATABASE_URL|CREDENTIAL", re.I)
# Where pods, services, nodes and cloud metadata live: never "the internet".
INTERNAL_RANGES = [
    ipaddress.ip_network(cidr)
    for cidr in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "127.0.0.0/8",
    )
]


# --- rendering -----------------------------------------------------------------------------


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail(
            "kubectl is required (with Kustomize 5: `kubectl kustomize`) to render deploy/k8s; "
            "install it (CI has it at /usr/bin/kubectl)"
        )
    return found


@cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"kubectl kustomize {overlay} failed:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def objects(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in rendered(overlay) if doc["kind"] == kind}


def deployment(overlay: str, service: str) -> dict[str, Any]:
    return objects(overlay, "Deployment")[service]


def container(overlay: str, service: str) -> dict[str, Any]:
    (only,) = deployment(overlay, service)["spec"]["template"]["spec"]["containers"]
    return only


def http_port(overlay: str, service: str) -> int:
    ports = {port["name"]: port["containerPort"] for port in container(overlay, service)["ports"]}
    return int(ports["http"])


def environment(overlay: str, service: str) -> dict[str, str | dict[str, Any]]:
    """The container's environment: ConfigMap values resolved, secret references as is."""
    spec = container(overlay, service)
    configmaps = objects(overlay, "ConfigMap")
    env: dict[str, str | dict[str, Any]] = {}
    for source in spec.get("envFrom", []):
        assert "configMapRef" in source, f"{service}: envFrom only from ConfigMaps"
        env.update(configmaps[source["configMapRef"]["name"]]["data"])
    for item in spec.get("env", []):
        env[item["name"]] = item["value"] if "value" in item else item["valueFrom"]
    return env


def labels_match(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, f"only matchLabels selectors here: {selector}"
    return all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items())


def pod_labels(overlay: str, name: str) -> dict[str, str]:
    workloads = objects(overlay, "Deployment") | objects(overlay, "StatefulSet")
    labels: dict[str, str] = workloads[name]["spec"]["template"]["metadata"]["labels"]
    return labels


def k8s_version_of_kustomize() -> tuple[int, ...]:
    result = subprocess.run(
        [kubectl(), "version", "--client", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    version = json.loads(result.stdout)["kustomizeVersion"]
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


# --- the code's side -----------------------------------------------------------------------


def settings_class(service: str) -> Any:
    return importlib.import_module(f"botram_{service}.settings").Settings


def known_env_names(service: str) -> set[str]:
    names = set()
    for name, field in settings_class(service).model_fields.items():
        alias = field.validation_alias
        if alias is None:
            names.add(f"BOTRAM_{name}".upper())
        elif isinstance(alias, str):
            names.add(alias.upper())
        elif isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
    return names


def route_paths(service: str, settings: Any) -> set[str]:
    app = importlib.import_module(f"botram_{service}.main").create_app(settings)
    return {getattr(route, "path", "") for route in app.routes}


def settings_in_pod(overlay: str, service: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The service's Settings as its pod builds them, secrets replaced by stand-ins."""
    for key in list(os.environ):
        if key.upper().startswith("BOTRAM_"):
            monkeypatch.delenv(key)
    for key, value in environment(overlay, service).items():
        if isinstance(value, dict):
            ref = value["secretKeyRef"]
            if ref.get("optional"):
                continue
            stand_in = f"postgresql+asyncpg://{service}:pw@db-{service}:5432/{service}"
            value = stand_in if key.endswith("DATABASE_URL") else f"stand-in for {ref['name']}"
        monkeypatch.setenv(key, value)
    return settings_class(service)()


def memory_benchmark_mib() -> dict[str, float]:
    """Each service's resident memory after the simulated day (BENCHMARKS.md, row e)."""
    row = next(line for line in BENCHMARKS.read_text().splitlines() if "| e. memory" in line)
    figures = dict(re.findall(r"(scheduler|registry|notifier|reporting) (\d+) MB", row))
    assert set(figures) == set(SERVICES), row
    return {service: float(mb) for service, mb in figures.items()}


def quantity_mib(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG]i?)", quantity).groups()  # type: ignore[union-attr]
    return float(number) * units[unit]


# --- every object is valid -------------------------------------------------------------------


def test_kubectl_has_kustomize_5() -> None:
    assert k8s_version_of_kustomize() >= (5,)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid_kubernetes(overlay: str, version: str) -> None:
    invalid, custom = [], []
    for doc in rendered(overlay):
        if (doc["apiVersion"], doc["kind"]) in CUSTOM_KINDS:
            custom.append(doc["kind"])
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = "/".join(map(str, error.path))
            invalid.append(f"{doc['kind']}/{doc['metadata']['name']} {path}: {error.message}")

    assert invalid == []
    assert custom == ["ServiceMonitor"]


def test_validation_is_strict_about_unknown_fields() -> None:
    doc = json.loads(json.dumps(deployment("production", "registry")))
    doc["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, KUBERNETES_VERSIONS[0], strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_overlay_has_every_piece_of_each_service(overlay: str) -> None:
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
        assert set(SERVICES) <= set(objects(overlay, kind)), kind
    assert set(objects(overlay, "Deployment")) == set(SERVICES)
    (namespace,) = objects(overlay, "Namespace").values()
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert {doc["metadata"].get("namespace") for doc in rendered(overlay)} - {None} == {
        namespace["metadata"]["name"]
    }


# --- the services ------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_use_the_routes_the_app_serves_on_its_port(
    overlay: str, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = container(overlay, service)
    settings = settings_in_pod(overlay, service, monkeypatch)
    routes = route_paths(service, settings)

    assert spec["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert spec["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert spec[probe]["httpGet"]["port"] == "http"
        assert spec[probe]["httpGet"]["path"] in routes
    assert http_port(overlay, service) == settings.http_port
    assert settings.http_port == settings_class(service).model_fields["http_port"].default
    (service_port,) = objects(overlay, "Service")[service]["spec"]["ports"]
    assert (service_port["port"], service_port["targetPort"]) == (settings.http_port, "http")
    assert labels_match(
        {"matchLabels": objects(overlay, "Service")[service]["spec"]["selector"]},
        pod_labels(overlay, service),
    )


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_in_production_mode_with_what_the_code_reads(
    overlay: str, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = environment(overlay, service)
    settings = settings_in_pod(overlay, service, monkeypatch)

    unknown = {key for key in env if key.startswith("BOTRAM_")} - known_env_names(service)
    assert not unknown, f"{service} ignores {sorted(unknown)}"
    assert env["BOTRAM_ENV"] == "production" and settings.is_production
    assert settings.http_host == "0.0.0.0"
    assert isinstance(env["BOTRAM_AUTH_ISSUER"], str) and env["BOTRAM_AUTH_ISSUER"]
    assert isinstance(env["BOTRAM_AUTH_JWKS_URL"], str)
    assert env["BOTRAM_AUTH_JWKS_URL"].endswith("/protocol/openid-connect/certs")
    settings.check_identity_provider()
    url = make_url(settings.resolved_database_url())
    assert (url.drivername, url.database) == ("postgresql+asyncpg", service)
    nats_hosts = {
        re.fullmatch(r"nats://([\w.-]+):4222", part)[1]  # type: ignore[index]
        for part in settings.nats_url.split(",")
    }
    nats_services = {
        name
        for name, svc in objects(overlay, "Service").items()
        if labels_match({"matchLabels": svc["spec"]["selector"]}, pod_labels(overlay, "nats"))
        and any(port["port"] == 4222 for port in svc["spec"]["ports"])
        and svc["spec"].get("clusterIP") != "None"
    }
    assert nats_hosts <= nats_services


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_come_only_from_references(overlay: str, service: str) -> None:
    env = environment(overlay, service)
    database = env[f"BOTRAM_{service.upper()}_DATABASE_URL"]
    secret_settings = {
        f"BOTRAM_{field}".upper() for field in settings_class(service).secret_fields()
    }

    assert isinstance(database, dict) and set(database) == {"secretKeyRef"}
    for name in secret_settings:
        assert isinstance(env[name], dict) and set(env[name]) == {"secretKeyRef"}, name  # type: ignore[arg-type]
    for name, value in env.items():
        if isinstance(value, str):
            assert not SECRET_NAME.search(name), f"{name} is a literal: use a secretKeyRef"
            assert not re.search(r"://[^/@\s]+:[^/@\s]+@", value), f"{name} carries credentials"
        else:
            assert set(value) == {"secretKeyRef"}, f"{name}: {value}"


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_connects_to_nats_with_its_own_users_seed(
    overlay: str, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = environment(overlay, service)["BOTRAM_NATS_NKEY_SEED"]

    assert seed == {"secretKeyRef": {"name": f"botram-{service}-nats", "key": "seed"}}
    settings_in_pod(overlay, service, monkeypatch).check_bus_credentials()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_nats_gets_the_public_key_of_every_user_its_config_names(overlay: str) -> None:
    (nats,) = objects(overlay, "StatefulSet")["nats"]["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item.get("valueFrom") for item in nats["env"]}
    referenced = set(re.findall(r"nkey:\s*\$(\w+)", NATS_CONF.read_text()))

    assert referenced == {f"BOTRAM_NATS_{u.upper()}_NKEY" for u in (*SERVICES, "ops")}
    for name in referenced:
        user = name.removeprefix("BOTRAM_NATS_").removesuffix("_NKEY").lower()
        assert env[name] == {"secretKeyRef": {"name": f"botram-{user}-nats", "key": "nkey"}}
    assert "no_auth_user" not in NATS_CONF.read_text()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_values_anywhere_in_the_manifests(overlay: str) -> None:
    assert objects(overlay, "Secret") == {}
    for configmap in objects(overlay, "ConfigMap").values():
        for key, value in configmap.get("data", {}).items():
            if key.endswith(".conf"):
                continue  # the NATS config: no credentials in it (checked below)
            assert not SECRET_NAME.search(key), f"{key} in a ConfigMap"
            assert not re.search(r"://[^/@\s]+:[^/@\s]+@", value), key
    config = NATS_CONF.read_text()
    assert not re.search(r"^\s*(password|token|seed)\s*:", config, re.M | re.I)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_resources_come_from_the_memory_benchmark(overlay: str, service: str) -> None:
    resources = container(overlay, service)["resources"]
    measured = memory_benchmark_mib()[service]
    request = quantity_mib(resources["requests"]["memory"])
    limit = quantity_mib(resources["limits"]["memory"])

    # The request covers the measured day with headroom, the limit leaves room for bursts.
    assert max(memory_benchmark_mib().values()) * 1.2 <= request <= 2 * measured
    assert limit >= 2 * request
    assert "cpu" in resources["requests"]
    assert "cpu" not in resources.get("limits", {}), "CPU limits throttle: requests size it"


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_termination_grace_covers_the_services_own_graceful_stop(
    overlay: str, service: str
) -> None:
    pod = deployment(overlay, service)["spec"]["template"]["spec"]
    http_drain = int(re.search(r"timeout_graceful_shutdown=(\d+)", SERVE.read_text())[1])  # type: ignore[index]
    pre_stop = container(overlay, service)["lifecycle"]["preStop"]["exec"]["command"]
    pause = int(pre_stop[-1]) if pre_stop[0] == "sleep" else 0

    assert pod["terminationGracePeriodSeconds"] == GRACE_SECONDS
    # The pause, uvicorn's drain, then the relay and NATS drain: at least 10 s left for those.
    assert pause + http_drain + 10 <= GRACE_SECONDS


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_containers_run_as_the_images_non_root_user_on_a_read_only_root(
    overlay: str, service: str
) -> None:
    pod = deployment(overlay, service)["spec"]["template"]["spec"]
    security = container(overlay, service)["securityContext"]
    (user,) = re.findall(r"^USER\s+(\d+)", DOCKERFILE.read_text(), re.M)

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == int(user)
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["automountServiceAccountToken"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_are_the_services_built_from_the_dockerfile(overlay: str, service: str) -> None:
    image = container(overlay, service)["image"]
    name, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")

    assert name == f"botram/{service}"
    assert f"AS service-{service}" in DOCKERFILE.read_text()
    if overlay == "production":
        assert tag and tag != "latest", f"production pins a release: {image}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_replicas_pdb_and_hpa_per_service(overlay: str) -> None:
    expected = 2 if overlay == "production" else 1
    for service in SERVICES:
        pdb = objects(overlay, "PodDisruptionBudget")[service]["spec"]
        hpa = objects(overlay, "HorizontalPodAutoscaler")[service]["spec"]

        assert deployment(overlay, service)["spec"]["replicas"] == expected
        assert labels_match(pdb["selector"], pod_labels(overlay, service))
        assert pdb.get("maxUnavailable") == 1
        assert hpa["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": service,
        }
        assert hpa["minReplicas"] == expected <= hpa["maxReplicas"]
        assert [metric["resource"]["name"] for metric in hpa["metrics"]] == ["cpu"]


# --- NATS --------------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_nats_runs_the_shipped_cluster_config_on_three_nodes(overlay: str) -> None:
    statefulset = objects(overlay, "StatefulSet")["nats"]
    pod = statefulset["spec"]["template"]["spec"]
    (nats,) = pod["containers"]
    env = {item["name"]: item for item in nats["env"]}
    (config_volume,) = [volume for volume in pod["volumes"] if "configMap" in volume]
    configmap = objects(overlay, "ConfigMap")[config_volume["configMap"]["name"]]
    mount = next(m for m in nats["volumeMounts"] if m["name"] == config_volume["name"])
    headless = objects(overlay, "Service")[statefulset["spec"]["serviceName"]]

    assert statefulset["spec"]["replicas"] == 3
    assert configmap["data"]["nats.conf"] == NATS_CONF.read_text()
    assert nats["command"][-1] == f"{mount['mountPath']}/nats.conf"
    assert env["NATS_SERVER_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    routes = re.findall(r"nats://([\w.-]+):6222", env["NATS_ROUTES"]["value"])
    assert routes == [f"nats-{index}.{headless['metadata']['name']}" for index in range(3)]
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    assert any(m["mountPath"] == "/data" for m in nats["volumeMounts"])
    assert statefulset["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    assert pod["terminationGracePeriodSeconds"] > 30  # lame_duck_duration
    assert nats["securityContext"]["readOnlyRootFilesystem"] is True
    assert objects(overlay, "PodDisruptionBudget")["nats"]["spec"]["maxUnavailable"] == 1
    spread = pod["topologySpreadConstraints"][0]["whenUnsatisfiable"]
    assert spread == ("DoNotSchedule" if overlay == "production" else "ScheduleAnyway")


# --- network policies --------------------------------------------------------------------------


def policies_for(overlay: str, workload: str) -> list[dict[str, Any]]:
    labels = pod_labels(overlay, workload)
    return [
        policy["spec"]
        for policy in objects(overlay, "NetworkPolicy").values()
        if labels_match(policy["spec"]["podSelector"], labels)
    ]


def egress_rules(overlay: str, workload: str) -> list[dict[str, Any]]:
    return [rule for spec in policies_for(overlay, workload) for rule in spec.get("egress", [])]


def is_internal(block: dict[str, Any]) -> bool:
    network = ipaddress.ip_network(block["cidr"])
    return any(network.subnet_of(internal) for internal in INTERNAL_RANGES)


def internet_rules(overlay: str, workload: str) -> list[dict[str, Any]]:
    """Egress rules that reach beyond the private ranges (an ipBlock, or a rule with no `to`)."""
    found = []
    for rule in egress_rules(overlay, workload):
        peers = rule.get("to")
        if not peers or any("ipBlock" in p and not is_internal(p["ipBlock"]) for p in peers):
            found.append(rule)
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_is_denied_unless_a_policy_allows_it(overlay: str) -> None:
    deny = [
        policy
        for policy in objects(overlay, "NetworkPolicy").values()
        if policy["spec"]["podSelector"] == {}
        and set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not policy["spec"].get("ingress")
        and not policy["spec"].get("egress")
    ]

    assert len(deny) == 1
    for workload in (*SERVICES, "nats"):
        specs = policies_for(overlay, workload)
        assert {"Ingress", "Egress"} <= {kind for spec in specs for kind in spec["policyTypes"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_notifier_reaches_the_internet_and_only_over_https(overlay: str) -> None:
    for workload in (*SERVICES, "nats"):
        rules = internet_rules(overlay, workload)
        if workload != "notifier":
            assert rules == [], f"{workload} may reach the internet: {rules}"
            continue
        (rule,) = rules
        assert rule["ports"] == [{"port": 443, "protocol": "TCP"}]
        (peer,) = rule["to"]
        assert peer["ipBlock"]["cidr"] == "0.0.0.0/0"
        excepted = [ipaddress.ip_network(cidr) for cidr in peer["ipBlock"]["except"]]
        for internal in INTERNAL_RANGES:
            assert any(internal.subnet_of(block) for block in excepted), internal


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_reaches_only_its_own_database_and_nats(overlay: str, service: str) -> None:
    databases, nats_ports = set(), set()
    for rule in egress_rules(overlay, service):
        ports = {port["port"] for port in rule.get("ports", [])}
        assert ports, f"{service}: an egress rule without ports allows every port"
        for peer in rule.get("to", []):
            pods = peer.get("podSelector")
            if pods is None and "ipBlock" not in peer:
                # A whole namespace: only a named one (DNS, the identity provider), no database.
                assert peer["namespaceSelector"].get("matchLabels"), peer
                assert 5432 not in ports
            if pods is not None and "botram.io/database" in pods.get("matchLabels", {}):
                databases.add(pods["matchLabels"]["botram.io/database"])
                assert ports == {5432}
            if pods is not None and labels_match(pods, pod_labels(overlay, "nats")):
                nats_ports |= ports

    assert databases == {service}
    assert nats_ports == {4222}


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_reaches_only_the_services_http_port(overlay: str, service: str) -> None:
    ports = {
        port["port"]
        for spec in policies_for(overlay, service)
        for rule in spec.get("ingress", [])
        for port in rule.get("ports", [{"port": "any"}])
    }

    assert ports == {"http"}
    assert http_port(overlay, service) in {
        port["containerPort"] for port in container(overlay, service)["ports"]
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_nats_routes_are_reachable_only_by_nats_and_clients_only_by_the_services(
    overlay: str,
) -> None:
    ingress = [rule for spec in policies_for(overlay, "nats") for rule in spec.get("ingress", [])]
    by_port = {port["port"]: rule["from"] for rule in ingress for port in rule["ports"]}

    assert set(by_port) == {4222, 6222, 8222}
    (route_peer,) = by_port[6222]
    assert labels_match(route_peer["podSelector"], pod_labels(overlay, "nats"))
    (client_peer,) = by_port[4222]
    for service in SERVICES:
        assert labels_match(client_peer["podSelector"], pod_labels(overlay, service))
    assert not labels_match(client_peer["podSelector"], pod_labels(overlay, "nats"))


# --- monitoring --------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_service_monitor_scrapes_metrics_of_every_service(
    overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Structural check of the ServiceMonitor (a CRD: no bundled schema)."""
    (monitor,) = objects(overlay, "ServiceMonitor").values()
    spec = monitor["spec"]
    selected = {
        name
        for name, svc in objects(overlay, "Service").items()
        if labels_match(spec["selector"], svc["metadata"]["labels"])
    }

    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(spec) <= {"selector", "endpoints", "namespaceSelector", "jobLabel"}
    assert selected == set(SERVICES)
    (endpoint,) = spec["endpoints"]
    assert set(endpoint) <= {"port", "path", "interval", "scrapeTimeout", "scheme"}
    for service in SERVICES:
        ports = {port["name"] for port in objects(overlay, "Service")[service]["spec"]["ports"]}
        assert endpoint["port"] in ports
        assert endpoint["path"] in route_paths(
            service, settings_in_pod(overlay, service, monkeypatch)
        )
