"""Bus permissions come from the contracts: each event type is publishable by its producer alone.

Pure: NATS subject matching (`matches`, the server's rule: `*` one token, `>` the rest)
applied to the permission lists `bus_access` derives, and the client settings that carry
credentials and TLS. The server enforcing them is tested in
tests/runtime/integration/test_sealed_bus.py.
"""

import ssl
from pathlib import Path

import pytest
from pydantic import ValidationError

from botram_contracts.events import EVENT_MODELS
from botram_contracts.subjects import PRIVATE_CITIZEN_EVENTS, subject_template
from botram_runtime import bus_client
from botram_runtime.bus_access import (
    CONSUMERS,
    LISTENERS,
    OPS_USER,
    SERVICES,
    botram_users,
    consumer_of,
    max_deliveries_subject,
    ops_permissions,
    render_accounts,
    service_inbox_prefix,
    service_permissions,
    streams_of,
)
from botram_runtime.service import ServiceRuntime
from botram_runtime.settings import ServiceSettings
from botram_runtime.stream import PRIVATE_STREAM_NAME, STREAM_NAME

SEED = "SUAMK2FG4MI6UE3ACF3FK3OIQBCEIEZV7NSWFFEW63UXMRLFM2XLAXK4GY"


def matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: `*` matches one token, a final `>` one or more."""
    wanted, tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or (token != "*" and token != tokens[index]):
            return False
    return len(tokens) == len(wanted)


def may_publish(user_permissions: dict[str, dict[str, list[str]]], subject: str) -> bool:
    return any(matches(p, subject) for p in user_permissions["publish"]["allow"])


def example_subject(model: type) -> str:
    return subject_template(model, token=lambda name: f"some-{name.replace('_', '-')}")  # type: ignore[arg-type]


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
def test_each_event_type_is_publishable_by_its_producer_and_no_other_service(
    event_type: str,
) -> None:
    model = EVENT_MODELS[event_type]
    subject = example_subject(model)

    publishers = {s for s in SERVICES if may_publish(service_permissions(s), subject)}

    assert publishers == {model.producer}
    assert not may_publish(ops_permissions(), subject)


def test_the_operator_reads_every_public_subject_but_never_a_private_one() -> None:
    subscribe = ops_permissions()["subscribe"]

    assert any(matches(p, "botram.>") for p in subscribe["allow"])
    assert subscribe["deny"] == ["botram.private.>"]
    assert not [p for p in ops_permissions()["publish"]["allow"] if "BOTRAM_PRIVATE.>" in p]
    assert not may_publish(ops_permissions(), "$JS.API.CONSUMER.CREATE.BOTRAM_PRIVATE.x")
    assert not may_publish(ops_permissions(), "$JS.API.CONSUMER.MSG.NEXT.BOTRAM_PRIVATE.x")


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_reads_only_through_its_own_consumers_on_its_own_inbox(service: str) -> None:
    permissions = service_permissions(service)
    others = [s for s in SERVICES if s != service]

    live = list(LISTENERS.get(service, ()))
    assert permissions["subscribe"]["allow"] == [
        f"{service_inbox_prefix(service)}.>",
        *(max_deliveries_subject(c.stream, c.durable) for c in CONSUMERS[service]),
        *live,
    ]
    for consumer in CONSUMERS[service]:
        next_message = f"$JS.API.CONSUMER.MSG.NEXT.{consumer.stream}.{consumer.durable}"
        assert may_publish(permissions, next_message)
    for other in others:
        for consumer in CONSUMERS[other]:
            stream, name = consumer.stream, consumer.durable
            assert not may_publish(permissions, f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}")
            assert not may_publish(permissions, f"$JS.API.CONSUMER.CREATE.{stream}.{name}")
    assert not may_publish(permissions, "$JS.API.INFO")
    assert not may_publish(permissions, f"$JS.API.STREAM.DELETE.{STREAM_NAME}")


def test_live_listeners_follow_only_public_events_their_service_publishes() -> None:
    """Core subscriptions (the registry's display) read no private subject, no inbox and no
    event another service owns."""
    for service, subjects in LISTENERS.items():
        for subject in subjects:
            assert subject.startswith("botram.") and not matches(subject, "botram.private.x")
            owners = {
                model.producer
                for model in EVENT_MODELS.values()
                if matches(subject, example_subject(model))
            }
            assert owners == {service}, (subject, owners)


def test_only_the_notifier_reads_or_purges_the_private_stream() -> None:
    readers = {
        service
        for service in SERVICES
        for pattern in service_permissions(service)["publish"]["allow"]
        if pattern.startswith(("$JS.API.CONSUMER.", "$JS.ACK.", "$JS.API.STREAM.PURGE."))
        and PRIVATE_STREAM_NAME in pattern
    }

    assert readers == {"notifier"}
    assert consumer_of("notifier", "notifier-private").subjects == (PRIVATE_CITIZEN_EVENTS,)
    assert {s for s in SERVICES if PRIVATE_STREAM_NAME in streams_of(s)} == {"registry", "notifier"}


def test_dead_letters_of_private_events_stay_private() -> None:
    notifier = service_permissions("notifier")

    assert may_publish(notifier, "botram.private.dlq.notifier")
    assert may_publish(notifier, "botram.dlq.notifier")
    assert not may_publish(service_permissions("registry"), "botram.private.dlq.registry")


def test_the_accounts_block_names_every_user_once_and_no_anonymous_one() -> None:
    block = render_accounts(botram_users(), generated_by="a test")

    for user in (*SERVICES, OPS_USER):
        assert block.count(f"$BOTRAM_NATS_{user.upper()}_NKEY,") == 1
    assert "no_auth_user" not in block
    assert "password" not in block


def test_a_service_may_not_subscribe_with_a_consumer_bus_access_does_not_declare(
    tmp_path: Path,
) -> None:
    settings = ServiceSettings(
        service_name="registry", database_url=f"sqlite+aiosqlite:///{tmp_path}/r.db"
    )
    runtime = ServiceRuntime(settings, tmp_path, description="test")

    async def handler(*_: object) -> None:
        return None

    with pytest.raises(LookupError, match="registry-tickets"):
        runtime.subscribe(
            "botram.ticket.>", durable="registry-tickets", handler=handler, description="x"
        )
    with pytest.raises(LookupError, match="filters on"):
        runtime.subscribe("botram.>", durable="registry-sessions", handler=handler, description="x")


# --- client settings ---------------------------------------------------------------------------


def test_without_credentials_a_client_connects_anonymously_outside_production() -> None:
    settings = ServiceSettings()

    assert bus_client.security(settings) is None
    settings.check_bus_credentials()  # development, a server of one's own


def test_production_refuses_to_start_without_nats_credentials() -> None:
    with pytest.raises(ValueError, match="BOTRAM_NATS_NKEY_SEED"):
        ServiceSettings(env="production").check_bus_credentials()
    ServiceSettings(env="production", nats_nkey_seed=SEED).check_bus_credentials()


def test_one_way_to_authenticate_at_a_time() -> None:
    with pytest.raises(ValidationError, match="only one"):
        ServiceSettings(nats_nkey_seed=SEED, nats_user="u", nats_password="p")
    with pytest.raises(ValidationError, match="go together"):
        ServiceSettings(nats_user="u")
    with pytest.raises(ValidationError, match="go together"):
        ServiceSettings(nats_tls_cert=Path("c.pem"))


def test_the_connection_carries_the_seed_and_the_services_own_inbox() -> None:
    settings = ServiceSettings(service_name="notifier", nats_nkey_seed=SEED)

    options = bus_client.connect_options(settings, inbox_prefix=service_inbox_prefix("notifier"))

    assert options["nkeys_seed_str"] == SEED
    assert options["inbox_prefix"] == "_INBOX_botram_notifier"
    assert "tls" not in options or options["tls"] is None


def test_tls_settings_verify_the_server_with_the_given_ca(tmp_path: Path) -> None:
    # Any CA bundle will do to build the context: the system's.
    ca = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")
    settings = ServiceSettings(nats_user="u", nats_password="p", nats_tls_ca=ca)

    options = bus_client.connect_options(settings, inbox_prefix="_INBOX")

    assert isinstance(options["tls"], ssl.SSLContext)
    assert options["tls"].verify_mode == ssl.CERT_REQUIRED
    assert (options["user"], options["password"]) == ("u", "p")


def test_streams_every_service_declares() -> None:
    assert {s: streams_of(s) for s in SERVICES} == {
        "scheduler": (STREAM_NAME,),
        "registry": (STREAM_NAME, PRIVATE_STREAM_NAME),
        "notifier": (STREAM_NAME, PRIVATE_STREAM_NAME),
        "reporting": (STREAM_NAME,),
    }
