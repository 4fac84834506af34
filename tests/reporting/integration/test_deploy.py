"""deploy/ for reporting: alert rules and Grafana dashboard queries pass promtool; compose
provisions both."""

import json
import re
from pathlib import Path
from typing import Any

import yaml

from helpers import promtool

ROOT = Path(__file__).resolve().parents[3]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
ALERT_TESTS = ROOT / "deploy" / "prometheus" / "alerts.test.yml"
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "botram.json"


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_alert_rules_pass_promtool_and_cover_waits_lag_webhooks_and_a_service_down() -> None:
    rules = yaml.safe_load(ALERTS.read_text())
    exprs = " ".join(rule["expr"] for group in rules["groups"] for rule in group["rules"])
    for metric in (
        "botram_wait_seconds_bucket",
        "botram_consumer_lag_messages",
        "botram_webhook_deliveries_total",
        "up{",
    ):
        assert metric in exprs, metric
    result = promtool("check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_delivery_alerts_fire_when_they_should_and_only_then() -> None:
    # promtool's rule unit tests: dead letters, max deliveries, a stalled consumer, fetches
    # failing (deploy/prometheus/alerts.test.yml), each also checked not to fire too early.
    rules = yaml.safe_load(ALERTS.read_text())
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert {
        "BotramEventsDeadLettered",
        "BotramMaxDeliveriesReached",
        "BotramConsumerStalled",
        "BotramConsumerCannotFetch",
    } <= names

    result = promtool("test", "rules", str(ALERT_TESTS))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    # Grafana's variables replaced by values, each query checked as a recording rule.
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {
                        "record": f"dashboard:query_{i}",
                        "expr": expr.replace("$__range", "1h").replace("$level", "kecamatan"),
                    }
                    for i, expr in enumerate(dashboard_queries())
                ],
            }
        ]
    }
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump(rules))
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_shows_what_planners_asked_for_from_the_contract_metrics() -> None:
    queries = " ".join(dashboard_queries())
    for metric in (
        "botram_checkins_total",
        "botram_services_completed_total",
        "botram_wait_seconds_bucket",
        "botram_queue_waiting",
        "botram_tickets_issued_total",
        "botram_ikm",
        "botram_survey_responses_total",
    ):
        assert metric in queries, metric
    uids = {p["datasource"]["uid"] for p in json.loads(DASHBOARD.read_text())["panels"]}
    source = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    assert uids == {source["datasources"][0]["uid"]}


def compose_service(name: str) -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service: dict[str, Any] = compose["services"][name]
    return service


def test_compose_loads_the_alert_rules_and_provisions_grafana() -> None:
    config = yaml.safe_load(PROMETHEUS.read_text())
    mounts = dict(
        v.rsplit(":", 1)[0].split(":", 1)
        for v in compose_service("prometheus")["volumes"]
        if v.startswith("./")
    )
    for rule_file in config["rule_files"]:
        assert rule_file in mounts.values()
        assert (ROOT / next(k for k, v in mounts.items() if v == rule_file)).is_file()
    grafana_mounts = [v for v in compose_service("grafana")["volumes"] if v.startswith("./")]
    for volume in grafana_mounts:
        assert (ROOT / volume.split(":")[0]).is_dir(), volume
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/botram.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    assert any(re.search(rf":{re.escape(path)}(:ro)?$", v) for v in grafana_mounts)
