"""After a session closes, none of its phones is left anywhere: not in any stream, not in any
service's database (every table, every text and binary column), in any of their spellings
(issue 13, "How we will check it"; the contract: "deleted after the session")."""

import sqlite3
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.js.errors import NotFoundError

from botram_runtime.clock import local_today, system_clock
from botram_runtime.stream import STREAM_NAMES
from helpers import eventually

SERVICES = ("scheduler", "registry", "notifier", "reporting")
PEOPLE = [
    ("3216056607950004", "Dewi Lestari", "081234567890"),
    ("3216051203850002", "Budi Santoso", "+6281298765432"),
    ("3216050101500003", "Haji Oman", "6285711112222"),
]


def cores(phones: list[str]) -> list[str]:
    """What every spelling of a phone holds (08…, 628…, +628… all contain 8…)."""
    return [phone.lstrip("+").removeprefix("62").removeprefix("0") for phone in phones]


async def stream_texts(nc: NatsClient) -> list[str]:
    """Every message still stored in every stream, subject and data, as text."""
    js = nc.jetstream()
    texts = []
    for stream in STREAM_NAMES:
        state = (await js.stream_info(stream)).state
        for seq in range(state.first_seq, state.last_seq + 1):
            try:
                message = await js.get_msg(stream, seq)
            except NotFoundError:  # purged or deleted
                continue
            texts.append(f"{message.subject} {(message.data or b'').decode(errors='replace')}")
    return texts


def database_texts(path: Path) -> list[str]:
    """Every text and binary value of every table of a SQLite database."""
    texts = []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):  # names from the schema
                for value in row:
                    if isinstance(value, bytes):
                        texts.append(f"{table}: {value.decode(errors='replace')}")
                    elif isinstance(value, str):
                        texts.append(f"{table}: {value}")
    return texts


async def test_a_closed_session_leaves_no_phone_in_any_stream_or_database(
    fleet: Any, nc: NatsClient, tmp_path: Path
) -> None:
    scheduler, registry = fleet.clients["scheduler"], fleet.clients["registry"]
    session_id = fleet.known["session_id"][0]
    for nik, name, phone in PEOPLE[:2]:
        answer = await registry.post(
            f"/v1/sessions/{session_id}/check-ins",
            json={"nik": nik, "name": name, "phone": phone, "services": ["dukcapil-kk"]},
        )
        assert answer.status_code in (200, 201), answer.text
    nik, name, phone = PEOPLE[2]
    offline = {
        "client_id": "c-1",
        # Just after midnight of the session's day (today, Asia/Jakarta): on its day.
        "recorded_at": f"{local_today(system_clock).isoformat()}T00:01:00+07:00",
        "nik": nik,
        "name": name,
        "phone": phone,
        "services": ["dukcapil-kk"],
    }
    batch = await registry.post(
        f"/v1/sessions/{session_id}/check-ins:batch", json={"items": [offline]}
    )
    assert batch.json()["results"][0]["result"] == "created", batch.text
    phones = cores([p[2] for p in PEOPLE])

    async def phones_reached_the_notifier() -> bool:
        texts = database_texts(tmp_path / "notifier.db")
        return all(any(p in t for t in texts) for p in phones)

    # Before the close the phones are where they must be: the test can see them.
    try:
        await eventually(phones_reached_the_notifier, within=20)
    except AssertionError:
        raise AssertionError(str(database_texts(tmp_path / "notifier.db"))[:3000]) from None
    streams = await stream_texts(nc)
    assert all(any(p in t for t in streams) for p in phones)

    closed = await scheduler.post(f"/v1/sessions/{session_id}/close")
    assert closed.status_code == 200, closed.text

    async def left_behind() -> list[str]:
        texts = await stream_texts(nc)
        for service in SERVICES:
            texts += [f"{service} {t}" for t in database_texts(tmp_path / f"{service}.db")]
        return [t[:120] for t in texts if any(p in t for p in phones)]

    async def none_left() -> bool:
        return not await left_behind()

    try:
        await eventually(none_left, within=20)
    except AssertionError:
        raise AssertionError(f"phones left behind: {await left_behind()}") from None
