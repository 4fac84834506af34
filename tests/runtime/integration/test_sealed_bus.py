"""The shipped NATS configuration seals the bus: every client is a Botram user with its rights.

A real nats-server runs deploy/nats/nats.conf (listen addresses and store moved, the users'
public nkeys from the environment as compose passes them: `SealedNats`). Each service's user
publishes only its own events; only the notifier reads private ones; the four services run a
session day on it with their own seeds, and once the session closes no stream holds a phone
of it.
"""

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlmodel import col, select

from botram_contracts.events import (
    EVENT_MODELS,
    CitizenContactSharedV1,
    TicketRef,
    encode_event,
    make_event,
)
from botram_contracts.subjects import private_session_subjects, subject_for, subject_template
from botram_notifier.store import ContactRow
from botram_runtime.bus_access import OPS_USER, SERVICES, new_user_seed
from botram_runtime.clock import local_today, system_clock
from botram_runtime.stream import PRIVATE_STREAM_NAME, STREAM_NAME, ensure_streams
from helpers import (
    SealedNats,
    eventually,
    permission_violations,
    publish_event,
    running,
    session_issuer,
)

NIK = "3216054507900001"
NAME = "Siti Aminah"
PHONE = "081298765432"
OTHER_PHONE = "081211112222"
FORGED = b'{"forged": true}'


async def declare_streams(sealed_nats: SealedNats) -> None:
    """Both streams, declared as the registry does at start-up (its user may)."""
    registry = await sealed_nats.connect("registry")
    try:
        await ensure_streams(registry.jetstream(timeout=5))
    finally:
        await registry.close()


async def stored_subjects(sealed_nats: SealedNats, stream: str, filter_: str) -> dict[str, int]:
    """Subject -> message count in a stream, as the operator sees it (never the content)."""
    ops = await sealed_nats.connect(OPS_USER)
    try:
        info = await ops.jetstream(timeout=5).stream_info(stream, subjects_filter=filter_)
        return dict(info.state.subjects or {})
    finally:
        await ops.close()


async def public_stream_contents(sealed_nats: SealedNats) -> list[str]:
    """Subject and payload of every message of the public stream, read by the operator."""
    ops = await sealed_nats.connect(OPS_USER)
    try:
        js = ops.jetstream(timeout=5)
        total = (await js.stream_info(STREAM_NAME)).state.messages
        subscription = await js.pull_subscribe(
            "",
            stream=STREAM_NAME,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.NONE,
                filter_subjects=["botram.>"],
                inactive_threshold=30.0,
            ),
        )
        contents: list[str] = []
        for _ in range(50):  # bounded: a few fetches hold the whole stream
            if len(contents) >= total:
                break
            try:
                messages = await subscription.fetch(500, timeout=1)
            except nats.errors.TimeoutError:
                continue
            contents += [f"{message.subject} {message.data.decode()}" for message in messages]
        assert len(contents) == total
        return contents
    finally:
        await ops.close()


# --- who may connect ---------------------------------------------------------------------------


async def test_an_anonymous_client_is_refused(sealed_nats: SealedNats) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(sealed_nats.url, allow_reconnect=False, connect_timeout=3)


async def test_a_key_the_configuration_does_not_name_is_refused(sealed_nats: SealedNats) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(
            sealed_nats.url,
            nkeys_seed_str=new_user_seed().decode(),
            allow_reconnect=False,
            connect_timeout=3,
        )


# --- who may publish what ----------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_publishes_its_own_event_types_and_no_other_services(
    sealed_nats: SealedNats, service: str
) -> None:
    await declare_streams(sealed_nats)
    token = f"t{uuid.uuid4().hex[:8]}"  # this test's subjects only
    subjects = {
        model.event_type: subject_template(model, token=lambda _: token)
        for model in EVENT_MODELS.values()
    }
    own = {event_type for event_type, model in EVENT_MODELS.items() if model.producer == service}
    errors: list[str] = []
    client = await sealed_nats.connect(service, errors)
    try:
        for subject in subjects.values():
            await client.publish(subject, FORGED)
        await client.flush()
        violations = await permission_violations(errors, len(subjects) - len(own))
    finally:
        await client.close()

    refused = {s for s in subjects.values() if any(f'"{s}"' in v for v in violations)}
    assert refused == {s for event_type, s in subjects.items() if event_type not in own}

    async def stored() -> set[str]:
        found = await stored_subjects(sealed_nats, STREAM_NAME, "botram.>")
        found |= await stored_subjects(sealed_nats, PRIVATE_STREAM_NAME, "botram.>")
        return {subject for subject in found if token in subject.split(".")}

    expected = {s for event_type, s in subjects.items() if event_type in own}
    await eventually(lambda: stored_is(stored, expected))


async def test_a_forged_session_cancellation_from_the_registry_is_refused_by_the_server(
    sealed_nats: SealedNats,
) -> None:
    await declare_streams(sealed_nats)
    errors: list[str] = []
    registry = await sealed_nats.connect("registry", errors)
    try:
        with pytest.raises(nats.errors.TimeoutError):  # no stream ever acknowledges it
            await registry.jetstream().publish(
                "botram.session.cancelled.v1.kecamatan.forged", FORGED, timeout=1
            )
        assert await permission_violations(errors)
    finally:
        await registry.close()

    assert await stored_subjects(sealed_nats, STREAM_NAME, "botram.session.*.*.*.forged") == {}


# --- who may read what -------------------------------------------------------------------------


async def reads(js: Any, durable: str) -> bool:
    """Whether a client gets a message through this consumer of the private stream."""
    try:
        subscription = await js.pull_subscribe(
            "botram.private.citizen.>", durable=durable, stream=PRIVATE_STREAM_NAME
        )
        return bool(await subscription.fetch(1, timeout=1))
    except nats.errors.TimeoutError:  # the server dropped a refused request, or nothing came
        return False


@pytest.mark.parametrize("user", [s for s in SERVICES if s != "notifier"] + [OPS_USER])
async def test_only_the_notifier_reads_private_events(sealed_nats: SealedNats, user: str) -> None:
    await declare_streams(sealed_nats)
    registry = await sealed_nats.connect("registry")
    await publish_event(registry, contact(f"s-{user}", PHONE), "registry")
    await registry.close()
    notifier = await sealed_nats.connect("notifier")
    await notifier.jetstream(timeout=5).pull_subscribe(
        "botram.private.citizen.>", durable="notifier-private", stream=PRIVATE_STREAM_NAME
    )
    errors: list[str] = []
    client = await sealed_nats.connect(user, errors)
    try:
        js = client.jetstream(timeout=1)
        assert not await reads(js, f"{user}-private")
        assert not await reads(js, "notifier-private")
        for subject in ("botram.private.>", "_INBOX_botram_notifier.>"):
            await client.subscribe(subject)
        await client.flush()
        violations = await permission_violations(errors, 4)
    finally:
        await client.close()
    # ... while the notifier does, through its own consumer.
    assert await reads(notifier.jetstream(timeout=5), "notifier-private")
    await notifier.close()

    assert any('"botram.private.>"' in v for v in violations), errors
    assert any("_inbox_botram_notifier.>" in v.lower() for v in violations), errors


# --- the whole system on the shipped configuration ---------------------------------------------


def json_event(data: dict[str, Any]) -> bytes:
    """A CloudEvent of type contact_shared whose data fails the model (a bad phone)."""
    event = make_event(contact(data["session_id"], PHONE), "registry")
    body = json.loads(encode_event(event))
    body["data"] = data
    return json.dumps(body).encode()


async def stored_is(stored: Any, expected: set[str]) -> bool:
    return bool(await stored() == expected)


def settings_for(service: str, sealed_nats: SealedNats, tmp_path: Path) -> Any:
    settings_class = __import__(f"botram_{service}.settings", fromlist=["Settings"]).Settings
    extra = {"auto_lifecycle": False} if service == "scheduler" else {}
    return settings_class(
        nats_url=sealed_nats.url,
        nats_nkey_seed=sealed_nats.seeds[service],
        database_url=f"sqlite+aiosqlite:///{tmp_path / service}.db",
        outbox_poll_seconds=0.1,
        **extra,
    )


@pytest.fixture
def own_sealed_nats(tmp_path: Path) -> Iterator[SealedNats]:
    """A sealed server of this test alone: its log holds only what this test caused."""
    directory = tmp_path / "nats"
    directory.mkdir()
    server = SealedNats(directory).start()
    yield server
    server.stop()


@pytest.fixture
async def system(
    own_sealed_nats: SealedNats, tmp_path: Path
) -> AsyncIterator[dict[str, tuple[Any, httpx.AsyncClient]]]:
    """The four services, each connected as its own NATS user: service -> (app, client)."""
    async with AsyncExitStack() as stack:
        apps = {}
        for service in SERVICES:
            create_app = __import__(f"botram_{service}.main", fromlist=["create_app"]).create_app
            app = create_app(settings_for(service, own_sealed_nats, tmp_path))
            apps[service] = (app, await stack.enter_async_context(running(app)))
        yield apps


async def consumed(sealed_nats: SealedNats, stream: str, durable: str) -> bool:
    ops = await sealed_nats.connect(OPS_USER)
    try:
        info = await ops.jetstream(timeout=5).consumer_info(stream, durable)
        return not info.num_pending and not info.num_ack_pending
    finally:
        await ops.close()


def contact(session_id: str, phone: str) -> CitizenContactSharedV1:
    ticket = TicketRef(
        ticket_id=f"t-{session_id}",
        service="dukcapil-kk",
        agency="dukcapil",
        number="KK-001",
        position=1,
    )
    return CitizenContactSharedV1(
        check_in_id=f"c-{session_id}", session_id=session_id, phone=phone, tickets=[ticket]
    )


async def test_the_services_run_a_session_day_as_their_own_users_and_the_phones_go_at_close(
    own_sealed_nats: SealedNats, system: dict[str, tuple[Any, httpx.AsyncClient]]
) -> None:
    bus = own_sealed_nats
    scheduler, registry = system["scheduler"][1], system["registry"][1]
    desk = session_issuer().headers("desk", agency="dukcapil")
    today = local_today(system_clock).isoformat()
    created = await scheduler.post(
        "/v1/sessions", json={"level": "kecamatan", "kecamatan": "Sukatani", "date": today}
    )
    assert created.status_code == 201, created.text
    session_id = created.json()["id"]
    assert (await scheduler.post(f"/v1/sessions/{session_id}/open")).status_code == 200

    async def check_in() -> httpx.Response | None:
        response = await registry.post(
            f"/v1/sessions/{session_id}/check-ins",
            json={"nik": NIK, "name": NAME, "phone": PHONE, "services": ["dukcapil-kk"]},
        )
        return response if response.status_code == 201 else None

    await eventually(check_in, within=20, interval=0.2)
    called = await registry.post(
        f"/v1/sessions/{session_id}/services/dukcapil-kk/call-next",
        json={"desk": "meja-1"},
        headers=desk,
    )
    assert called.status_code == 200, called.text
    completed = await registry.post(
        f"/v1/tickets/{called.json()['ticket_id']}/complete",
        json={"outcome": "served"},
        headers=desk,
    )
    assert completed.status_code == 200, completed.text
    # Another session's phone, published as the registry's outbox would: it must stay.
    other = await bus.connect("registry")
    await publish_event(other, contact("s-other", OTHER_PHONE), "registry")
    await other.close()
    this_session = private_session_subjects(session_id)
    assert await stored_subjects(bus, PRIVATE_STREAM_NAME, this_session)
    await eventually(lambda: consumed(bus, PRIVATE_STREAM_NAME, "notifier-private"))
    await eventually(lambda: consumed(bus, STREAM_NAME, "reporting"))

    assert (await scheduler.post(f"/v1/sessions/{session_id}/close")).status_code == 200

    async def purged() -> bool:
        return not await stored_subjects(bus, PRIVATE_STREAM_NAME, this_session)

    await eventually(purged, within=20)
    assert await stored_subjects(bus, PRIVATE_STREAM_NAME, private_session_subjects("s-other")) == {
        "botram.private.citizen.contact_shared.v1.s-other": 1
    }
    public = await public_stream_contents(bus)
    assert [line for line in public if line.startswith("botram.citizen.checked_in.v1.")]
    for secret in (PHONE, PHONE[1:], NIK, NAME):
        assert [line for line in public if secret in line] == []
    async with system["notifier"][0].state.deps.db.session() as tx:
        contacts = await tx.exec(select(ContactRow).where(col(ContactRow.session_id) == session_id))
        assert contacts.all() == []
    for _, client in system.values():
        assert (await client.get("/readyz")).status_code == 200
    # Every call each service made was within its user's permissions.
    assert "permissions violation" not in bus.log().lower()
    assert "authorization" not in bus.log().lower()


async def test_a_malformed_private_event_is_dead_lettered_inside_the_private_stream(
    own_sealed_nats: SealedNats, tmp_path: Path
) -> None:
    bus = own_sealed_nats
    app = __import__("botram_notifier.main", fromlist=["create_app"]).create_app(
        settings_for("notifier", bus, tmp_path)
    )
    malformed = contact("s-bad", PHONE).model_dump(mode="json") | {"phone": f"+62 {PHONE}"}
    async with running(app):
        registry = await bus.connect("registry")
        try:
            await registry.jetstream(timeout=5).publish(
                subject_for(contact("s-bad", PHONE)), json_event(malformed)
            )
        finally:
            await registry.close()

        async def dead_lettered() -> dict[str, int]:
            return await stored_subjects(bus, PRIVATE_STREAM_NAME, "botram.private.dlq.>")

        assert await eventually(dead_lettered) == {"botram.private.dlq.notifier": 1}

    public = await public_stream_contents(bus)
    assert [line for line in public if PHONE in line or "dlq" in line] == []
    assert await stored_subjects(bus, STREAM_NAME, "botram.dlq.>") == {}
