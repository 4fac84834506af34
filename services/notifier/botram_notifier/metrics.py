"""The notifier's metrics, declared once on the service's own registry."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Seconds an endpoint took to answer one attempt; the top bucket sits at the timeout.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class NotifierMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "botram_webhook_deliveries_total",
            "Webhook delivery attempts by agency and outcome (delivered, retry, failed, gone)",
            ["agency", "outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "botram_webhook_delivery_seconds",
            "Time an agency endpoint took to answer a delivery attempt",
            ["agency"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.pending = Gauge(
            "botram_webhook_pending",
            "Deliveries waiting for their next attempt (the backlog)",
            registry=registry,
        )
        self.dead_letters = Gauge(
            "botram_webhook_failed",
            "Deliveries in the dead letter (failed, replayable)",
            registry=registry,
        )
        self.disabled = Gauge(
            "botram_webhook_subscriptions_disabled",
            "Webhook subscriptions currently disabled",
            registry=registry,
        )
        self.auto_disabled = Counter(
            "botram_webhook_subscriptions_auto_disabled_total",
            "Subscriptions disabled by the notifier (410 Gone or failing too long), by agency",
            ["agency", "reason"],
            registry=registry,
        )
        self.messages = Counter(
            "botram_citizen_messages_total",
            "Messages to citizens by kind and result (sent, skipped, failed)",
            ["kind", "result"],
            registry=registry,
        )
