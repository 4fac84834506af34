"""Who may subscribe to what, which URLs are accepted, which secrets sign."""

from datetime import UTC, datetime, timedelta

import pytest

from botram_contracts.reference import load_catalogue
from botram_notifier.domain.subscriptions import (
    CreateSubscription,
    check_addresses,
    check_new_subscription,
    endpoint_of,
    signing_secrets,
    subscription_matches,
)
from botram_runtime.actors import Actor, Role
from botram_runtime.errors import DomainError

COMPLETED = "botram.service.completed.v1"
NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
CATALOGUE = load_catalogue()
SERVICE_AGENCY = {service.code: service.agency for service in CATALOGUE}
OPERATOR = Actor(sub="operator-1", roles=frozenset({Role.OPERATOR}))


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"agency": "kpu"}, 422, "unknown-agency"),
        ({"event_types": ["botram.ticket.teleported.v1"]}, 422, "unknown-event-type"),
        ({"event_types": []}, 422, "unknown-event-type"),
        ({"event_types": ["botram.citizen.checked_in.v1"]}, 403, "event-type-forbidden"),
        ({"event_types": ["botram.citizen.contact_shared.v1"]}, 403, "event-type-forbidden"),
        ({"event_types": ["botram.demand.ranked.v1"]}, 403, "event-type-forbidden"),
        ({"services": ["baznas-zakat-infak-sedekah"]}, 403, "service-of-another-agency"),
        ({"services": ["bpjs-kesehatan-teleportasi"]}, 422, "unknown-service"),
        ({"url": "ftp://example.org/hook"}, 422, "invalid-url"),
        ({"url": "not a url"}, 422, "invalid-url"),
        ({"url": "https://user:pw@example.org/hook"}, 422, "invalid-url"),
        ({"url": "https://example.org:99999/hook"}, 422, "invalid-url"),
        ({"url": "http://a..b/"}, 422, "invalid-url"),
        ({"url": "https://" + "a" * 64 + ".example.org/"}, 422, "invalid-url"),
        ({"url": "https://[::1/hook"}, 422, "invalid-url"),
        ({"url": "https://hooks.example.org/\x00"}, 422, "invalid-url"),
        ({"url": "https://hooks.example.org/ bot"}, 422, "invalid-url"),
    ],
)
def test_a_bad_subscription_is_refused_with_its_code(
    change: dict[str, object], status: int, code: str
) -> None:
    fields: dict[str, object] = {
        "agency": "bpjs-kesehatan",
        "url": "https://hooks.example.org/botram",
        "event_types": [COMPLETED],
    }
    command = CreateSubscription(actor=OPERATOR, **(fields | change))  # type: ignore[arg-type]

    with pytest.raises(DomainError) as refused:
        check_new_subscription(command, CATALOGUE.agencies, SERVICE_AGENCY)

    assert (refused.value.status, refused.value.code) == (status, code)


def test_a_good_subscription_passes() -> None:
    command = CreateSubscription(
        actor=OPERATOR,
        agency="bpjs-kesehatan",
        url="https://hooks.example.org/botram",
        event_types=[COMPLETED, "botram.session.opened.v1"],
        services=["bpjs-kesehatan-pendaftaran"],
    )

    assert check_new_subscription(command, CATALOGUE.agencies, SERVICE_AGENCY) == "bpjs-kesehatan"


def test_ticket_and_service_events_go_to_their_own_agency_and_services_only() -> None:
    def matches(data: dict[str, object], services: list[str] | None = None) -> bool:
        return subscription_matches(
            agency="bpjs-kesehatan",
            event_types=[COMPLETED],
            services=services,
            event_type=COMPLETED,
            data=data,
        )

    own = {"agency": "bpjs-kesehatan", "service": "bpjs-kesehatan-pendaftaran"}
    assert matches(own)
    assert not matches({"agency": "dukcapil", "service": "dukcapil-kk"})
    assert matches(own, services=["bpjs-kesehatan-pendaftaran"])
    assert not matches(own, services=["bpjs-kesehatan-perubahan-data"])
    assert not subscription_matches(
        agency="bpjs-kesehatan",
        event_types=[COMPLETED],
        services=None,
        event_type="botram.ticket.called.v1",
        data=own,
    )


def test_a_host_with_any_internal_address_is_refused() -> None:
    check_addresses("hooks.example.org", ["8.8.8.8", "2606:4700:4700::1111"])

    with pytest.raises(DomainError) as refused:
        check_addresses("sneaky.example.org", ["8.8.8.8", "10.0.0.5"])

    assert (refused.value.status, refused.value.code) == (422, "forbidden-url")
    assert "private or reserved" in refused.value.detail


@pytest.mark.parametrize(
    "address",
    [
        "2002:a9fe:a9fe::1",  # 6to4 around 169.254.169.254 (cloud metadata)
        "2002:0a00:0005::1",  # 6to4 around 10.0.0.5
        "2001:0:4136:e378:8000:63bf:f5ff:fffa",  # Teredo: client 10.0.0.5 (inverted bits)
        "fec0::1",  # site-local
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
    ],
)
def test_ipv6_addresses_that_reach_internal_ipv4_or_site_local_are_refused(address: str) -> None:
    with pytest.raises(DomainError) as refused:
        check_addresses("sneaky.example.org", [address])

    assert refused.value.code == "forbidden-url"


def test_6to4_and_teredo_around_public_addresses_pass() -> None:
    check_addresses(
        "hooks.example.org", ["2002:0808:0808::1", "2001:0:4136:e378:8000:63bf:f7f7:f7f7"]
    )


def test_production_requires_https() -> None:
    command = CreateSubscription(
        actor=OPERATOR,
        agency="bpjs-kesehatan",
        url="http://hooks.example.org/botram",
        event_types=[COMPLETED],
    )
    check_new_subscription(command, CATALOGUE.agencies, SERVICE_AGENCY)

    with pytest.raises(DomainError) as refused:
        check_new_subscription(command, CATALOGUE.agencies, SERVICE_AGENCY, require_https=True)

    assert refused.value.code == "https-required"


def test_the_previous_secret_signs_only_inside_its_window() -> None:
    later = NOW + timedelta(hours=1)

    assert signing_secrets("new", "old", later, NOW) == ["new", "old"]
    assert signing_secrets("new", "old", NOW, NOW) == ["new"]
    assert signing_secrets("new", None, None, NOW) == ["new"]


def test_concurrency_is_bounded_per_scheme_host_and_port() -> None:
    assert endpoint_of("https://Hooks.Example.org/a?x=1") == "https://hooks.example.org"
    assert endpoint_of("https://hooks.example.org/b") == "https://hooks.example.org"
    assert endpoint_of("http://hooks.example.org:8080/a") == "http://hooks.example.org:8080"
