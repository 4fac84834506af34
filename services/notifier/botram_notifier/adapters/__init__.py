"""I/O the notifier's use cases rely on: the webhook HTTP sender, SMS gateways, NATS accounts."""
