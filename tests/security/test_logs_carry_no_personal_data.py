"""The logs of the whole system carry no NIK, name or phone (issue 13, "How we will check it").

`botram up` runs the four services as `make up` does (on SQLite, and on PostgreSQL when
BOTRAM_TEST_DATABASE_URL is set: one database per service), at DEBUG; a scripted day with
known personal data goes through them, with the inputs that used to crash (a NUL in a name,
which PostgreSQL refuses with an error that carried the whole row; a bidi override; a year-1
clock), and then every line any service wrote is searched for that data.
"""

import os
import queue
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from botram_cli.nats_server import free_port
from botram_cli.tokens import mint_token
from botram_runtime.actors import Role
from botram_runtime.clock import local_today, system_clock
from helpers import cli, eventually

SERVICES = ("scheduler", "registry", "notifier", "reporting")
PG_URL = os.environ.get("BOTRAM_TEST_DATABASE_URL")
READY_TIMEOUT_SECONDS = 90
NIK, NAME, PHONE = "3216056607950004", "Dewi Kartikasari", "081377778888"
OTHER_NIK, OTHER_NAME, OTHER_PHONE = "3216051203850002", "Bambang Wiratmoko", "+6285633334444"


async def _create_databases(names: list[str]) -> None:
    assert PG_URL is not None
    admin = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    try:
        for name in names:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_databases(names: list[str]) -> None:
    assert PG_URL is not None
    admin = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    try:
        for name in names:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
async def databases(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """`BOTRAM_<SERVICE>_DATABASE_URL` for each service (none: SQLite files under ./var)."""
    if request.param == "sqlite":
        yield {}
        return
    assert PG_URL is not None
    names = {s: f"botram_logs_{s}_{uuid.uuid4().hex[:8]}" for s in SERVICES}
    await _create_databases(list(names.values()))
    base = make_url(PG_URL)
    yield {
        f"BOTRAM_{s.upper()}_DATABASE_URL": base.set(database=n).render_as_string(
            hide_password=False
        )
        for s, n in names.items()
    }
    await _drop_databases(list(names.values()))


def _start(
    tmp_path: Path, databases: dict[str, str]
) -> tuple[subprocess.Popen[str], list[str], dict[str, str]]:
    ports = {name: free_port() for name in SERVICES}
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOTRAM_")}
    env |= {f"BOTRAM_{name.upper()}_HTTP_PORT": str(port) for name, port in ports.items()}
    env |= {"BOTRAM_OUTBOX_POLL_SECONDS": "0.2", "BOTRAM_LOG_LEVEL": "DEBUG", **databases}
    process = subprocess.Popen(
        cli("up"),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    log: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            log.append(line)
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            if "Botram is ready" in lines.get(timeout=1):
                return process, log, {s: f"http://127.0.0.1:{p}" for s, p in ports.items()}
        except queue.Empty:
            assert process.poll() is None, "".join(log)
    process.kill()
    pytest.fail("botram up was not ready in time:\n" + "".join(log))


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _headers(tmp_path: Path, *roles: str, agency: str | None = None) -> dict[str, str]:
    token = mint_token([Role(r) for r in roles], agency=agency, directory=tmp_path / "var" / "auth")
    return {"Authorization": f"Bearer {token}"}


async def test_no_service_logs_a_nik_a_name_or_a_phone(
    tmp_path: Path, databases: dict[str, str]
) -> None:
    process, log, urls = _start(tmp_path, databases)
    try:
        await _scripted_day(tmp_path, urls, log)
    finally:
        _stop(process)
    output = "".join(log)
    assert "session_contacts_erased" in output  # the day did run, and its lines are here

    secrets = [NIK, OTHER_NIK, *NAME.split(), *OTHER_NAME.split()]
    secrets += [p.lstrip("+").removeprefix("62").removeprefix("0") for p in (PHONE, OTHER_PHONE)]
    found = {s: [line[:160] for line in output.splitlines() if s in line] for s in secrets}
    assert {s: lines for s, lines in found.items() if lines} == {}


async def _scripted_day(tmp_path: Path, urls: dict[str, str], log: list[str]) -> None:
    """A session with citizens, desk work, the inputs that used to crash, and its close."""
    staff = _headers(tmp_path, "operator", "front-desk")
    desk = _headers(tmp_path, "desk", agency="dukcapil")
    async with httpx.AsyncClient(timeout=15, headers=staff) as http:
        created = await http.post(
            f"{urls['scheduler']}/v1/sessions",
            json={
                "level": "kecamatan",
                "kecamatan": "Sukatani",
                "date": local_today(system_clock).isoformat(),
            },
        )
        assert created.status_code == 201, created.text
        session = created.json()["id"]
        assert (await http.post(f"{urls['scheduler']}/v1/sessions/{session}/open")).is_success
        check_ins = f"{urls['registry']}/v1/sessions/{session}/check-ins"
        body = {"nik": NIK, "name": NAME, "phone": PHONE, "services": ["dukcapil-kk"]}

        async def checked_in() -> httpx.Response | None:
            answer = await http.post(check_ins, json=body)
            return answer if answer.status_code == 201 else None

        await eventually(checked_in, within=30, interval=0.3)
        assert (await http.post(check_ins, json=body)).status_code == 200  # a repeat
        refused = [
            # NUL in a name: PostgreSQL's refusal used to carry the whole row into the log.
            await http.post(check_ins, json=body | {"nik": OTHER_NIK, "name": "Bambang\x00"}),
            await http.post(check_ins, json=body | {"nik": OTHER_NIK, "name": "\u202eBambang"}),
            await http.post(check_ins, json=body | {"nik": OTHER_NIK + "9", "name": OTHER_NAME}),
            await http.post(
                f"{check_ins}:batch",
                json={
                    "items": [
                        {
                            "client_id": "c-1",
                            "recorded_at": "0001-01-01T00:00:00+05:00",
                            "nik": OTHER_NIK,
                            "name": OTHER_NAME,
                            "phone": OTHER_PHONE,
                            "services": ["dukcapil-kk"],
                        }
                    ]
                },
            ),
            await http.post(
                f"{urls['registry']}/v1/sessions/{session}%00{NIK}/check-ins", json=body
            ),
        ]
        assert [r.status_code for r in refused] == [422] * len(refused), [r.text for r in refused]
        other = body | {"nik": OTHER_NIK, "name": OTHER_NAME, "phone": OTHER_PHONE}
        assert (await http.post(check_ins, json=other)).status_code == 201
        called = await http.post(
            f"{urls['registry']}/v1/sessions/{session}/services/dukcapil-kk/call-next",
            json={"desk": "meja-1"},
            headers=desk,
        )
        assert called.status_code == 200, called.text
        done = await http.post(
            f"{urls['registry']}/v1/tickets/{called.json()['ticket_id']}/complete",
            json={"outcome": "served", "note": f"KK atas nama {NAME} selesai"},
            headers=desk,
        )
        assert done.status_code == 200, done.text
        opt_out = await http.post(f"{urls['notifier']}/v1/opt-outs", json={"phone": OTHER_PHONE})
        assert opt_out.status_code == 204, opt_out.text
        assert (await http.post(f"{urls['scheduler']}/v1/sessions/{session}/close")).is_success

    # The close reaches the notifier (it erases the session's contacts) and the registry.
    await eventually(lambda: "session_contacts_erased" in "".join(log), within=30)
