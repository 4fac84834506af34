"""Who may do what on the bus: every NATS user's permissions, derived from the contracts.

The server trusts no anonymous client. Each service connects as its own user, whose
permissions come from one function, `service_permissions`, so they cannot drift from the
code:
- publish: the subjects of the events the service owns (the event models' `producer`), its
  dead letters, and the JetStream API calls it makes: declaring the streams it uses, and
  creating, reading and fetching from its own durable consumers (`CONSUMERS`, which
  `ServiceRuntime.subscribe` enforces) and acknowledging their messages;
- subscribe: its own inbox (`_INBOX_botram_<service>`), where JetStream delivers what
  its pull consumers fetch, the MAX_DELIVERIES advisories of its own consumers, and the
  public subjects it listens to live (`LISTENERS`: the registry's public display follows its
  own calls on every instance). No service may read another's inbox: only the notifier's
  carries private events.
The operator's user (`ops`) inspects the public stream and creates agencies' consumers;
agencies are added by `python -m botram_notifier agency-credentials` (docs/agencies.md).

`render_accounts` writes these users as nats-server configuration: the shipped
`deploy/nats/nats.conf` (each service's public nkey from the environment) and the embedded
server of `botram up` (the keys it generated under ./var/nats/).
"""

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import nkeys  # type: ignore[import-untyped]  # nkeys ships no type hints
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from botram_contracts.events import EVENT_MODELS
from botram_contracts.subjects import (
    ALL_EVENTS,
    CITIZEN_EVENTS,
    DEMAND_EVENTS,
    PRIVATE_CITIZEN_EVENTS,
    PRIVATE_PREFIX,
    PUBLIC_EVENT_FAMILIES,
    SERVICE_EVENTS,
    SESSION_EVENTS,
    SURVEY_EVENTS,
    TICKET_EVENTS,
    agency_ticket_subjects,
    dead_letter_subject,
    subject_template,
)
from botram_runtime.stream import PRIVATE_STREAM_NAME, STREAM_NAME, stream_for

ACCOUNT = "BOTRAM"
API = "$JS.API"
OPS_USER = "ops"
# The operator's tools (the nats CLI, `agency-credentials`) keep the clients' default prefix.
OPS_INBOX_PREFIX = "_INBOX"
BEGIN_MARKER = "# BEGIN ACCOUNTS"
END_MARKER = "# END ACCOUNTS"

Permissions = dict[str, dict[str, list[str]]]


@dataclass(frozen=True)
class Consumer:
    """A durable consumer a service owns: its name and the subjects it filters on. An
    `ordered` one is a push consumer without acks, with flow control: its user answers the
    server's flow-control requests (`$JS.FC.<stream>.<name>.>`)."""

    durable: str
    subjects: tuple[str, ...]
    ordered: bool = False

    @property
    def stream(self) -> str:
        (stream,) = {stream_for(subject) for subject in self.subjects}
        return stream


# Every consumer of every service. Durable names are deployed: renaming one would replay the
# whole stream. `ServiceRuntime.subscribe` refuses a consumer that is not listed here.
CONSUMERS: dict[str, tuple[Consumer, ...]] = {
    "scheduler": (Consumer("scheduler-demand", (DEMAND_EVENTS,)),),
    "registry": (Consumer("registry-sessions", (SESSION_EVENTS,)),),
    "notifier": (
        Consumer("notifier-sessions", (SESSION_EVENTS,)),
        Consumer("notifier-tickets", (TICKET_EVENTS,)),
        Consumer("notifier-services", (SERVICE_EVENTS,)),
        Consumer("notifier-private", (PRIVATE_CITIZEN_EVENTS,)),
    ),
    "reporting": (
        Consumer("reporting", PUBLIC_EVENT_FAMILIES),
        # `python -m botram_reporting rebuild` reads the stream through an ordered consumer of
        # its own (no acks, flow control).
        Consumer("reporting-rebuild", PUBLIC_EVENT_FAMILIES, ordered=True),
    ),
}
SERVICES = tuple(CONSUMERS)
# Public subjects a service follows with core NATS subscriptions (`botram_runtime.live`): every
# instance sees every message, nothing is stored. The registry's display follows its own
# check-ins, calls and completions, whichever instance made them.
LISTENERS: dict[str, tuple[str, ...]] = {
    "registry": (CITIZEN_EVENTS, TICKET_EVENTS, SERVICE_EVENTS),
}
# Streams a service purges by subject: the notifier deletes a closed session's private
# events, and once, private events an older BOTRAM stream still holds.
PURGES: dict[str, tuple[str, ...]] = {"notifier": (PRIVATE_STREAM_NAME, STREAM_NAME)}
# Consumers of an older layout a service deletes when it starts: private events were read
# from BOTRAM before they had a stream of their own.
LEGACY_CONSUMERS: dict[str, tuple[tuple[str, str], ...]] = {
    "notifier": ((STREAM_NAME, "notifier-private"),)
}


def consumer_of(service: str, durable: str) -> Consumer:
    """The declared consumer; a name the table does not know is a programming error."""
    for consumer in CONSUMERS.get(service, ()):
        if consumer.durable == durable:
            return consumer
    raise LookupError(f"{service} declares no consumer {durable!r} (botram_runtime.bus_access)")


def service_inbox_prefix(service: str) -> str:
    """The reply-subject prefix of a service's connection: no other user may read it."""
    return f"_INBOX_botram_{service}"


def max_deliveries_subject(stream: str, durable: str) -> str:
    """Where JetStream announces a message it stopped redelivering to a consumer."""
    return f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{durable}"


def produced_subjects(service: str) -> list[str]:
    """Filters of every subject the service's events are published on."""
    return [
        subject_template(model, token=lambda _: "*")
        for model in EVENT_MODELS.values()
        if model.producer == service
    ]


def streams_of(service: str) -> tuple[str, ...]:
    """The streams a service declares: BOTRAM always (dead letters), the private one if used."""
    used = {stream_for(subject) for subject in produced_subjects(service)}
    used |= {consumer.stream for consumer in CONSUMERS.get(service, ())}
    return tuple(
        name for name in (STREAM_NAME, PRIVATE_STREAM_NAME) if name == STREAM_NAME or name in used
    )


def consumer_api(consumer: Consumer) -> list[str]:
    """Create (the filter is part of the subject when there is one), read, fetch and ack;
    answer flow control for an ordered one."""
    stream, name = consumer.stream, consumer.durable
    subjects = [f"{API}.CONSUMER.CREATE.{stream}.{name}"]
    if len(consumer.subjects) == 1:
        subjects.append(f"{API}.CONSUMER.CREATE.{stream}.{name}.{consumer.subjects[0]}")
    return [
        *subjects,
        f"{API}.CONSUMER.INFO.{stream}.{name}",
        f"{API}.CONSUMER.DELETE.{stream}.{name}",
        f"{API}.CONSUMER.MSG.NEXT.{stream}.{name}",
        f"$JS.ACK.{stream}.{name}.>",
        *([f"$JS.FC.{stream}.{name}.>"] if consumer.ordered else []),
    ]


def service_permissions(service: str) -> Permissions:
    """What one service's NATS user may publish and subscribe to (see the module's doc)."""
    consumers = CONSUMERS[service]
    publish = produced_subjects(service)
    for private in (False, True):
        if any((consumer.stream == PRIVATE_STREAM_NAME) == private for consumer in consumers):
            publish.append(dead_letter_subject(service, private=private))
    for stream in streams_of(service):
        publish += [f"{API}.STREAM.{verb}.{stream}" for verb in ("INFO", "CREATE", "UPDATE")]
    for consumer in consumers:
        publish += consumer_api(consumer)
    publish += [f"{API}.STREAM.PURGE.{stream}" for stream in PURGES.get(service, ())]
    publish += [
        f"{API}.CONSUMER.DELETE.{stream}.{name}"
        for stream, name in LEGACY_CONSUMERS.get(service, ())
    ]
    return {
        "publish": {"allow": publish},
        "subscribe": {
            "allow": [
                f"{service_inbox_prefix(service)}.>",
                *(max_deliveries_subject(c.stream, c.durable) for c in consumers),
                *LISTENERS.get(service, ()),
            ]
        },
    }


def ops_permissions() -> Permissions:
    """The operator: reads the public stream and its dead letters, manages its consumers
    (agencies' among them); sees the private stream's figures, never its messages."""
    public = (STREAM_NAME,)
    return {
        "publish": {
            "allow": [
                f"{API}.INFO",
                f"{API}.STREAM.NAMES",
                f"{API}.STREAM.LIST",
                f"{API}.STREAM.INFO.*",
                *(
                    f"{API}.CONSUMER.{verb}.{s}"
                    for s in public
                    for verb in ("NAMES", "LIST", "CREATE")
                ),
                *(f"{API}.CONSUMER.*.{s}.>" for s in public),
                *(f"{API}.CONSUMER.MSG.NEXT.{s}.*" for s in public),
                *(f"{API}.STREAM.MSG.GET.{s}" for s in public),
                *(f"{API}.DIRECT.GET.{s}" for s in public),
                *(f"{API}.DIRECT.GET.{s}.>" for s in public),
                *(f"$JS.ACK.{s}.>" for s in public),
                f"{API}.CONSUMER.NAMES.{PRIVATE_STREAM_NAME}",
                f"{API}.CONSUMER.LIST.{PRIVATE_STREAM_NAME}",
                f"{API}.CONSUMER.INFO.{PRIVATE_STREAM_NAME}.*",
            ]
        },
        # Everything public (a wildcard subscription is filtered by the deny), never private.
        "subscribe": {
            "allow": [ALL_EVENTS, f"{OPS_INBOX_PREFIX}.>"],
            "deny": [f"{PRIVATE_PREFIX}.>"],
        },
    }


def new_user_seed() -> bytes:
    """A fresh nkey user seed (`SU...`): a user's secret."""
    return bytes(nkeys.encode_seed(secrets.token_bytes(32), nkeys.PREFIX_BYTE_USER))


def public_key(seed: bytes) -> str:
    """The public half of a seed (`U...`): what the server's configuration names."""
    return str(nkeys.from_seed(bytearray(seed)).public_key.decode())


@dataclass(frozen=True)
class NatsUser:
    """One user of the accounts block: an nkey (or `$VARIABLE`) and its permissions."""

    comment: str
    nkey: str
    permissions: Permissions


def key_variable(user: str) -> str:
    """The environment variable the shipped nats.conf reads a user's public nkey from."""
    return f"BOTRAM_NATS_{user.upper()}_NKEY"


def botram_users(nkey_of: dict[str, str] | None = None) -> list[NatsUser]:
    """The services' and the operator's users; keys as `$BOTRAM_NATS_<USER>_NKEY` by default."""

    def key(user: str) -> str:
        return nkey_of[user] if nkey_of is not None else f"${key_variable(user)}"

    users = [NatsUser(f"service {s}", key(s), service_permissions(s)) for s in SERVICES]
    users.append(
        NatsUser("the operator (nats CLI, agencies' consumers)", key(OPS_USER), ops_permissions())
    )
    return users


def render_accounts(users: Iterable[NatsUser], *, generated_by: str) -> str:
    """The `accounts` block, between markers, for the nats-server configuration."""
    lines = []
    for user in users:
        permissions = json.dumps(user.permissions, indent=2).replace("\n", "\n        ")
        lines.append(
            f"      # {user.comment}\n      {{ nkey: {user.nkey}, permissions: {permissions} }}"
        )
    return (
        f"{BEGIN_MARKER} (generated by {generated_by}:\n"
        "# do not edit between the markers)\n"
        "# No anonymous access: every client is one of these users.\n"
        "accounts {\n"
        f"  {ACCOUNT} {{\n"
        "    jetstream: enabled\n"
        "    users: [\n" + "\n".join(lines) + f"\n    ]\n  }}\n}}\n{END_MARKER}"
    )


# --- agencies (direct NATS access, docs/agencies.md) ----------------------------------------


def agency_inbox_prefix(agency: str) -> str:
    """The reply-subject prefix an agency's client must use (`inbox_prefix=` in nats-py)."""
    return f"_INBOX_{agency}"


def agency_consumers(agency: str) -> dict[str, str]:
    """The durable consumers Botram keeps for an agency: name -> its only filter."""
    tickets, services = agency_ticket_subjects(agency)
    return {
        f"{agency}-tickets": tickets,
        f"{agency}-services": services,
        f"{agency}-sessions": SESSION_EVENTS,
    }


def agency_permissions(agency: str) -> Permissions:
    """An agency may read, fetch from and ack its own consumers, subscribe to its own subjects
    and the sessions', and receive replies on its own inbox; nothing else."""
    publish = []
    for name in agency_consumers(agency):
        publish += [
            # Reading its own consumer's state: NATS clients (Go, JavaScript, the CLI) look a
            # consumer up before fetching from it.
            f"{API}.CONSUMER.INFO.{STREAM_NAME}.{name}",
            f"{API}.CONSUMER.MSG.NEXT.{STREAM_NAME}.{name}",
            f"$JS.ACK.{STREAM_NAME}.{name}.>",
        ]
    return {
        "publish": {"allow": publish},
        "subscribe": {
            "allow": [
                *agency_ticket_subjects(agency),
                SESSION_EVENTS,
                f"{agency_inbox_prefix(agency)}.>",
            ],
            # Belt and braces: never the people, never the private subjects or other inboxes,
            # never the survey's answers (anonymous, but a small session's few answers could
            # be matched to its completions: agencies read their IKM from reporting instead).
            "deny": [CITIZEN_EVENTS, SURVEY_EVENTS, f"{PRIVATE_PREFIX}.>", "_INBOX.>"],
        },
    }


def agency_users(keys: dict[str, str]) -> list[NatsUser]:
    """One user per agency (agency slug -> its public nkey)."""
    return [
        NatsUser(f"agency {agency}", key, agency_permissions(agency))
        for agency, key in sorted(keys.items())
    ]


async def ensure_agency_consumers(js: JetStreamContext, agency: str) -> None:
    """The agency's durable pull consumers, from the start of the stream (idempotent)."""
    for name, subject in agency_consumers(agency).items():
        await js.add_consumer(
            STREAM_NAME,
            ConsumerConfig(
                name=name,
                durable_name=name,
                filter_subject=subject,
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                description=f"Botram events for agency {agency} (direct NATS access)",
            ),
        )
