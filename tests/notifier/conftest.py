"""Fixtures of the notifier's tests: a real HTTP receiver on 127.0.0.1, event factories."""

import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.events import ServiceCompletedV1, TicketCalledV1, WaitingTicketRef
from botram_notifier.main import create_app
from botram_notifier.settings import Settings
from helpers import running

PSEUDONYM = "a" * 64
Start = Callable[
    ..., AbstractAsyncContextManager[httpx.AsyncClient]
]  # a citizen's pseudonym, as the registry publishes it


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP endpoint that answers from a script (then 200) and records every request."""

    url: str = ""
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *statuses: int, headers: dict[str, str] | None = None) -> None:
        with self.lock:
            self.script.extend((status, headers or {}) for status in statuses)

    def next_answer(self) -> tuple[int, dict[str, str]]:
        with self.lock:
            return self.script.pop(0) if self.script else (200, {})

    def record(self, request: Received) -> None:
        with self.lock:
            self.requests.append(request)

    def count(self) -> int:
        with self.lock:
            return len(self.requests)


@contextmanager
def http_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = self.rfile.read(length)
            receiver.record(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            status, headers = receiver.next_answer()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An agency's webhook endpoint."""
    with http_receiver() as endpoint:
        yield endpoint


@pytest.fixture
def gateway() -> Iterator[Receiver]:
    """An SMS/WhatsApp gateway."""
    with http_receiver() as endpoint:
        yield endpoint


def _completed(
    ticket_id: str = "t-1",
    service: str = "bpjs-kesehatan-pendaftaran",
    agency: str = "bpjs-kesehatan",
    session_id: str = "s-1",
) -> ServiceCompletedV1:
    return ServiceCompletedV1(
        ticket_id=ticket_id,
        session_id=session_id,
        service=service,
        agency=agency,
        check_in_id="c-1",
        citizen=PSEUDONYM,
        outcome="served",
        waited_seconds=60,
        service_seconds=300,
    )


def _called(
    ticket_id: str,
    number: str,
    service: str = "dukcapil-kk",
    session_id: str = "s-1",
    agency: str = "dukcapil",
    up_next: list[WaitingTicketRef] | None = None,
) -> TicketCalledV1:
    return TicketCalledV1(
        ticket_id=ticket_id,
        session_id=session_id,
        service=service,
        agency=agency,
        number=number,
        desk="1",
        waited_seconds=10,
        up_next=up_next,
    )


@pytest.fixture
def completed() -> Callable[..., ServiceCompletedV1]:
    """`completed(ticket_id=..., service=..., agency=...)`: a served ticket of an agency."""
    return _completed


@pytest.fixture
def called() -> Callable[..., TicketCalledV1]:
    """`called(ticket_id, number, service=..., agency=..., up_next=...)`: a desk calls a
    ticket (`up_next`: who the registry says comes next; None as older registries)."""
    return _called


@pytest.fixture
def start(nats_server: EmbeddedNatsServer, nc: NatsClient, database_url: str) -> Start:
    """Start a notifier on the test database (again and again: a restart keeps the data)."""

    def start_notifier(**overrides: Any) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        options: dict[str, Any] = dict(
            nats_url=nats_server.url,
            database_url=database_url,
            notifier_retry_schedule="0.2,0.2,0.2",
            webhook_jitter=0,
            webhook_poll_seconds=0.1,
            webhook_timeout_seconds=5,
        )
        return running(create_app(Settings(**(options | overrides))))

    return start_notifier


@pytest.fixture
async def notifier(start: Start) -> AsyncIterator[httpx.AsyncClient]:
    async with start() as client:
        yield client
