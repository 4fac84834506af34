"""What every service process has: database, broker, outbox relay, metrics and standard routes.

A service builds one `ServiceRuntime` in its `main.py`, registers its subscribers on
`runtime.broker` and its routes on the app, and gets `/healthz`, `/readyz`, `/metrics`,
`/asyncapi.json`, problem+json errors and a lifespan that survives a bus that is not up yet.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from faststream.middlewares import AckPolicy as FastStreamAckPolicy
from faststream.nats import ConsumerConfig, DeliverPolicy, JStream, PullSub
from faststream.specification import AsyncAPI
from nats.aio.msg import Msg
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events import EVENT_MODELS, CloudEvent
from botram_contracts.subjects import subject_template
from botram_runtime import audit
from botram_runtime.access import allow, public, routes_without_a_rule
from botram_runtime.actors import Role
from botram_runtime.api_docs import add_swagger_ui, asyncapi_page
from botram_runtime.asyncapi import exact_document
from botram_runtime.auth import JwksFile, JwksUrl, KeySource, TokenVerifier
from botram_runtime.bus import (
    MAX_DELIVER_HEADROOM,
    PULL_BATCH,
    PULL_TIMEOUT_SECONDS,
    BatchHandler,
    ConsumerMetrics,
    Delivery,
    EventConsumer,
    batch_delivery_decoder,
    create_broker,
    delivery_decoder,
    jetstream_of,
)
from botram_runtime.bus_access import (
    LISTENERS,
    consumer_of,
    max_deliveries_subject,
    service_inbox_prefix,
    streams_of,
)
from botram_runtime.consumers import (
    MessagesHandler,
    Periodic,
    PullLoop,
    consumer_config,
    run_bounded,
    sleep_unless,
    stop_task,
)
from botram_runtime.db import Database
from botram_runtime.edge import HttpEdge
from botram_runtime.inbox import claim_event
from botram_runtime.inputs import Identifier, Moment
from botram_runtime.live import LiveFeed
from botram_runtime.logging import configure_logging
from botram_runtime.outbox import OutboxRelay
from botram_runtime.pages import STATIC_PREFIX, PageKit
from botram_runtime.problems import document_problems, install_problem_handlers
from botram_runtime.settings import ServiceSettings
from botram_runtime.stream import ensure_streams, stream_for

log = structlog.get_logger(__name__)

Hook = Callable[[], Awaitable[None]]
PUBLIC = [Depends(public())]
# A subscriber's use case: apply one event inside the transaction that also claimed it.
TxHandler = Callable[[AsyncSession, CloudEvent[Any]], Awaitable[None]]
BUS_RETRY_MAX_SECONDS = 10.0
# At shutdown, how long a connection attempt in progress may take before it is cancelled.
BUS_CONNECT_STOP_SECONDS = 1.0


class RouteWithoutRule(RuntimeError):
    """A route declares neither `allow(...)` nor `public()`: the service refuses to start."""


def check_access_rules(app: FastAPI) -> None:
    """Refuse to serve an app with a route that declares no access rule (botram_runtime.access):
    a route added without one would otherwise be open to anyone."""
    missing = routes_without_a_rule(app)
    if missing:
        raise RouteWithoutRule(f"routes without an access rule: {', '.join(missing)}")


class ServiceRuntime:
    """The wiring shared by every Botram service process."""

    def __init__(
        self,
        settings: ServiceSettings,
        migrations: Path,
        *,
        description: str,
        migration_attributes: dict[str, Any] | None = None,
    ) -> None:
        settings.check_identity_provider()
        settings.check_bus_credentials()
        self.settings = settings
        self.service = settings.service_name
        self.description = description
        self._migrations = migrations
        self._migration_attributes = migration_attributes or {}
        self.registry = CollectorRegistry()
        self.database = Database(
            settings.resolved_database_url(),
            service=self.service,
            sqlite_inline=settings.sqlite_inline,
            statement_timeout=settings.db_statement_timeout,
            lock_timeout=settings.db_lock_timeout,
        )
        self.broker = create_broker(settings, self.registry)
        self.consumer_metrics = ConsumerMetrics(self.registry)
        self._pull_loops: list[PullLoop] = []
        self._periodic: list[Periodic] = []
        self._stopping = asyncio.Event()
        self.events_published = Counter(
            "botram_outbox_published_total",
            "Events this service published from its outbox",
            registry=self.registry,
        )
        self.max_deliveries = Counter(
            "botram_consumer_max_deliveries_total",
            "Messages JetStream stopped redelivering to this service's consumers (advisories)",
            ["consumer"],
            registry=self.registry,
        )
        self.bus_errors = Counter(
            "botram_consumer_fetch_errors_total",
            "Fetches from the bus that failed (then retried with back-off), by error",
            ["consumer", "error"],
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "botram_outbox_pending",
            "Events waiting in this service's outbox",
            registry=self.registry,
        )
        self.relay = OutboxRelay(
            self.database,
            lambda: jetstream_of(self.broker),
            batch_size=settings.outbox_batch_size,
            poll_seconds=settings.outbox_poll_seconds,
            on_published=self.events_published.inc,
        )
        self.database.on_events_committed(self.relay.notify)
        keys: KeySource = (
            JwksUrl(
                settings.auth_jwks_url, min_refresh_seconds=settings.auth_jwks_min_refresh_seconds
            )
            if settings.auth_jwks_url
            else JwksFile(settings.auth_jwks_file)
        )
        self.token_verifier = TokenVerifier(
            keys,
            issuer=settings.token_issuer,
            audience=settings.auth_audience,
            leeway_seconds=settings.auth_leeway_seconds,
        )
        self.bus_started = False
        self._after_migrate: list[Hook] = []
        self._on_start: list[Hook] = []
        self._on_stop: list[Hook] = []
        self._bus_task: asyncio.Task[None] | None = None
        self._declare_publications()

    def _declare_publications(self) -> None:
        """Describe the events this service publishes (through its outbox) in AsyncAPI."""
        for event_type, model in EVENT_MODELS.items():
            if model.producer != self.service:
                continue
            subject = subject_template(model)
            self.broker.publisher(
                subject,
                stream=JStream(stream_for(subject), declare=False),
                schema=CloudEvent[model],  # type: ignore[valid-type]
                title=f"{self.service}/{event_type}",
                description=(model.__doc__ or "").strip()
                + " Published through the transactional outbox with Nats-Msg-Id = event id.",
            )

    def consumer(self, name: str) -> EventConsumer:
        """The delivery policy for one durable consumer of this service."""
        return EventConsumer(
            service=self.service,
            consumer=name,
            jetstream=lambda: jetstream_of(self.broker),
            metrics=self.consumer_metrics,
            max_deliver=self.settings.max_deliver,
        )

    def subscribe(
        self,
        subject: str,
        *,
        durable: str,
        handler: TxHandler,
        description: str,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        """Consume `subject` with a durable pull consumer, one event per transaction.

        For each event: open a transaction, claim the event id for `durable` (a redelivery
        is skipped), call `handler(tx, event)`, commit, then `after_commit()`. The delivery
        policy (`EventConsumer`) decides ack, nak or dead letter from what the handler raised.
        The raw bytes of the event are available to the handler as `delivered_payload()`.
        The consumer must be one of the service's in `bus_access.CONSUMERS` (its NATS user may
        use no other).
        """
        stream = self._declared_stream(durable, (subject,))
        consume = self.consumer(durable)

        async def apply(event: CloudEvent[Any]) -> None:
            async with self.database.transaction() as tx:
                if not await claim_event(tx, durable, str(event.id)):
                    return
                await handler(tx, event)
            if after_commit is not None:
                after_commit()

        async def on_messages(messages: list[Msg], loop: PullLoop) -> None:
            await consume.messages(messages, apply, loop)

        self._add_pull_loop(stream, durable, (subject,), on_messages, PULL_BATCH, fill=False)

        async def on_event(delivery: Delivery) -> None:  # documentation only (AsyncAPI)
            """Never called: `PullLoop` consumes."""

        on_event.__doc__ = description
        self.broker.subscriber(
            subject,
            stream=JStream(stream, declare=False),
            durable=durable,
            deliver_policy=DeliverPolicy.ALL,
            pull_sub=PullSub(batch_size=PULL_BATCH, timeout=PULL_TIMEOUT_SECONDS),
            inbox_prefix=self._inbox_prefix,
            ack_policy=FastStreamAckPolicy.MANUAL,
            decoder=delivery_decoder,
            title=f"{self.service}/{durable}",
            description=description,
        )(on_event)

    def subscribe_batches(
        self,
        subjects: list[str],
        *,
        durable: str,
        handler: BatchHandler,
        description: str,
        batch_size: int,
        batch_timeout_seconds: float,
        batch_linger_seconds: float | None = None,
    ) -> None:
        """Consume `subjects` (in stream order) with one durable pull consumer, by batch.

        `handler(events)` applies a whole fetched batch in one transaction, claiming each event
        id itself (`claim_events`), and returns the ids that were duplicates. A batch is
        fetched until full or `batch_timeout_seconds` passed; with `batch_linger_seconds`,
        that timeout bounds only the wait for its first event (see `PullLoop._fetch`).
        """
        stream = self._declared_stream(durable, tuple(subjects))
        consume = self.consumer(durable)

        async def on_messages(messages: list[Msg], _loop: PullLoop) -> None:
            await consume.batch(messages, handler)

        self._add_pull_loop(
            stream,
            durable,
            tuple(subjects),
            on_messages,
            batch_size,
            fill=True,
            fetch_timeout=batch_timeout_seconds,
            linger=batch_linger_seconds,
        )

        async def on_events(deliveries: list[Delivery]) -> None:  # documentation only
            """Never called: `PullLoop` consumes."""

        on_events.__doc__ = description
        self.broker.subscriber(
            "",
            stream=JStream(stream, declare=False),
            durable=durable,
            config=ConsumerConfig(filter_subjects=subjects),
            deliver_policy=DeliverPolicy.ALL,
            pull_sub=PullSub(batch_size=batch_size, timeout=batch_timeout_seconds, batch=True),
            inbox_prefix=self._inbox_prefix,
            ack_policy=FastStreamAckPolicy.MANUAL,
            decoder=batch_delivery_decoder,
            title=f"{self.service}/{durable}",
            description=description,
        )(on_events)

    def listen(self, subjects: tuple[str, ...]) -> LiveFeed:
        """A live feed of `subjects` (core NATS, every instance; see `botram_runtime.live`),
        subscribed once the bus is up and stopped with the service. The subjects must be the
        service's in `bus_access.LISTENERS` (its NATS user may subscribe to no other)."""
        declared = LISTENERS.get(self.service, ())
        if not set(subjects) <= set(declared):
            raise LookupError(f"{self.service} listens to {declared} in bus_access, not {subjects}")
        feed = LiveFeed(subjects)

        @self.on_start
        async def start() -> None:
            await feed.start(self.broker.connection)

        self.on_stop(feed.stop)
        return feed

    def _add_pull_loop(
        self,
        stream: str,
        durable: str,
        subjects: tuple[str, ...],
        handle: MessagesHandler,
        batch_size: int,
        *,
        fill: bool,
        fetch_timeout: float = PULL_TIMEOUT_SECONDS,
        linger: float | None = None,
    ) -> None:
        """Botram's own pull loop for a durable consumer (FastStream's subscriber declared
        beside it only describes it in AsyncAPI: the broker is connected, never started)."""
        config = consumer_config(
            durable,
            subjects,
            max_deliver=self.settings.max_deliver + MAX_DELIVER_HEADROOM,
            ack_wait=self.settings.ack_wait,
        )
        self._pull_loops.append(
            PullLoop(
                jetstream=lambda: jetstream_of(self.broker),
                stream=stream,
                config=config,
                batch_size=batch_size,
                fetch_timeout=fetch_timeout,
                inbox_prefix=self._inbox_prefix,
                handle=handle,
                fill=fill,
                linger=linger,
                on_bus_error=lambda error: self.bus_errors.labels(durable, error).inc(),
            )
        )

    @property
    def _inbox_prefix(self) -> bytes:
        """Where pull consumers take their messages: the service's own inbox (FastStream's
        default, `_INBOX.`, is one this service's NATS user may not read)."""
        return f"{service_inbox_prefix(self.service)}.".encode()

    def _declared_stream(self, durable: str, subjects: tuple[str, ...]) -> str:
        """The stream of a consumer declared in `bus_access.CONSUMERS`, exactly as declared."""
        declared = consumer_of(self.service, durable)
        if declared.subjects != subjects:
            raise LookupError(
                f"{self.service}/{durable} filters on {declared.subjects} in bus_access, "
                f"not {subjects}"
            )
        return declared.stream

    def after_migrate(self, hook: Hook) -> Hook:
        """Run `hook` once the database is migrated, before any event is consumed."""
        self._after_migrate.append(hook)
        return hook

    def on_start(self, hook: Hook) -> Hook:
        """Run `hook` once the database is migrated and the bus is connected."""
        self._on_start.append(hook)
        return hook

    def every(self, seconds: float, job: Hook, *, name: str) -> None:
        """Run `job` now and then every `seconds` while the service runs (after migrations).

        A failing run is logged and the next one tries again. Stopping the service sets a
        flag: a run in progress finishes (within the shutdown grace), no other starts.
        """
        self._periodic.append(Periodic(name, seconds, job))

    def on_stop(self, hook: Hook) -> Hook:
        self._on_stop.append(hook)
        return hook

    @property
    def consuming(self) -> bool:
        """The bus is up and every consumer of this service is bound to its stream."""
        return self.bus_started and all(loop.consuming for loop in self._pull_loops)

    async def is_ready(self) -> dict[str, bool]:
        """Readiness of each dependency; the bus counts once every consumer is bound (a
        replica that only published would not yet take its share of the events)."""
        bus = self.consuming and self.broker.connection.is_connected
        return {"database": await self.database.ping(), "bus": bool(bus)}

    def asyncapi(self) -> AsyncAPI:
        return AsyncAPI(
            self.broker,
            title=f"Botram {self.service}",
            version="1.0.0",
            description=self.description,
        )

    def create_app(
        self, title: str, version: str = "1.0.0", *, pages: Path | None = None
    ) -> FastAPI:
        """The service's FastAPI app with the standard routes and lifespan.

        `pages` is the service's package directory when it has screens: its `templates/` and
        `static/` join the page kit's (`botram_runtime.pages`). Every service serves the kit's
        static files at `/static/` (public, cached for a year: their URLs carry a hash).
        """
        app = FastAPI(
            title=title,
            version=version,
            description=self.description,
            lifespan=self._lifespan,
            # Served with local assets instead (api_docs.py): no CDN on an intranet.
            docs_url=None,
            redoc_url=None,
        )
        add_swagger_ui(app)
        app.state.runtime = self
        app.state.pages = PageKit(self.settings, pages)
        app.mount(STATIC_PREFIX, app.state.pages.static_files(), name="static")
        app.state.token_verifier = self.token_verifier
        if self.settings.cors_origins:
            # Closed by default; tokens travel in the Authorization header, never in cookies.
            app.add_middleware(
                CORSMiddleware,
                allow_origins=self.settings.cors_origins,
                allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
                allow_headers=["Authorization", "Content-Type"],
                allow_credentials=False,
            )
        # Outermost: a body too large, a path with NUL or an unexpected error never reach
        # (or leave) a route unanswered by problem+json.
        app.add_middleware(HttpEdge, max_body_bytes=self.settings.http_max_body_bytes)
        install_problem_handlers(app)
        self._add_standard_routes(app)
        document_problems(app)
        return app

    @asynccontextmanager
    async def _lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        configure_logging(self.service, self.settings.log_level, json=self.settings.log_json)
        check_access_rules(app)
        await self.database.migrate(self._migrations, **self._migration_attributes)
        for hook in self._after_migrate:
            await hook()
        self._stopping.clear()
        for job in self._periodic:
            job.start()
        self._bus_task = asyncio.create_task(self._connect_bus(), name="bus-connect")
        log.info("service_started", port=self.settings.http_port, env=self.settings.env.value)
        try:
            yield
        finally:
            await self.shutdown()

    async def shutdown(self) -> None:
        """Stop within `shutdown_grace` seconds, whatever hangs (SIGTERM, the end of a test).

        In order: stop fetching (each consumer settles the message in hand and hands back
        the rest with a nak), stop periodic jobs, run the services' stop hooks, flush the
        outbox relay, drain the bus connection, close the database. Every wait is bounded
        by what is left of the grace; a step that overruns is cancelled and logged.
        """
        clock = asyncio.get_running_loop().time
        deadline = clock() + self.settings.shutdown_grace

        def left() -> float:
            return max(deadline - clock(), 0.0)

        self._stopping.set()
        for loop in self._pull_loops:
            loop.request_stop()
        for job in self._periodic:
            job.request_stop()
        await stop_task(self._bus_task, min(left(), BUS_CONNECT_STOP_SECONDS))
        await asyncio.gather(
            *(loop.stop(left()) for loop in self._pull_loops),
            *(job.stop(left()) for job in self._periodic),
        )
        for hook in reversed(self._on_stop):
            await run_bounded(hook(), left(), name=f"on-stop-{getattr(hook, '__name__', 'hook')}")
        await self.relay.stop(left())
        if self.bus_started:
            # Drain: what nats-py still buffers (acks, naks) goes out before the close.
            await run_bounded(self.broker.stop(), left(), name="bus-stop")
            self.bus_started = False
        await self.database.dispose()
        log.info("service_stopped", overran=clock() > deadline)

    async def _connect_bus(self) -> None:
        """Connect to NATS, retrying until it answers, then start consuming and relaying.

        The broker is connected, never started: Botram's `PullLoop`s consume.
        """
        delay = 0.5
        while not self._stopping.is_set():
            try:
                await self.broker.connect()
                await ensure_streams(
                    jetstream_of(self.broker),
                    streams_of(self.service),
                    self.settings.stream_options(),
                )
                await self._watch_max_deliveries()
                break
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("bus_unavailable", error=repr(error), retry_in=delay)
                await sleep_unless(self._stopping, delay)
                delay = min(delay * 2, BUS_RETRY_MAX_SECONDS)
        if self._stopping.is_set():
            return
        self.bus_started = True
        for loop in self._pull_loops:
            loop.start()
        self.relay.start()
        for hook in self._on_start:
            await hook()
        log.info("bus_connected")

    async def _watch_max_deliveries(self) -> None:
        """Count JetStream's MAX_DELIVERIES advisories of this service's consumers: a message
        it stopped redelivering (the dead letter should have taken it first)."""
        for loop in self._pull_loops:
            durable = loop.durable

            async def advisory(_message: Msg, durable: str = durable) -> None:
                self.max_deliveries.labels(durable).inc()
                log.warning("max_deliveries_reached", consumer=durable)

            await self.broker.connection.subscribe(
                max_deliveries_subject(loop.stream, durable), cb=advisory
            )

    def _add_standard_routes(self, app: FastAPI) -> None:
        @app.get("/healthz", tags=["operations"], dependencies=PUBLIC)
        async def healthz() -> dict[str, str]:
            """The process is alive."""
            return {"status": "ok"}

        @app.get("/readyz", tags=["operations"], dependencies=PUBLIC)
        async def readyz() -> JSONResponse:
            """The bus and the database are reachable (503 otherwise)."""
            checks = await self.is_ready()
            ready = all(checks.values())
            return JSONResponse(
                {"status": "ready" if ready else "not ready", "checks": checks},
                status_code=200 if ready else 503,
            )

        @app.get(
            "/metrics",
            tags=["operations"],
            dependencies=[Depends(public())],
            response_class=Response,
        )
        async def metrics() -> Response:
            """Prometheus metrics in the text exposition format."""
            with suppress(Exception):
                self.outbox_pending.set(await self.relay.pending_count())
            return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

        @app.get("/v1/audit", tags=["operations"], dependencies=[Depends(allow(Role.OPERATOR))])
        async def audit_trail(
            actor: Annotated[str | None, Query(max_length=255)] = None,
            session_id: Annotated[Identifier | None, Query()] = None,
            since: Moment | None = None,
            until: Moment | None = None,
            limit: Annotated[int, Query(ge=1, le=audit.MAX_LIMIT)] = 100,
        ) -> list[dict[str, Any]]:
            """This service's audit trail, newest first (operator)."""
            async with self.database.session() as tx:
                return await audit.list_entries(
                    tx, actor=actor, session_id=session_id, since=since, until=until, limit=limit
                )

        @app.get("/asyncapi.json", tags=["operations"], dependencies=PUBLIC)
        async def asyncapi_json() -> dict[str, Any]:
            """The AsyncAPI document of this service's events (generated by FastStream)."""
            return exact_document(self.asyncapi().to_specification().to_jsonable())

        @app.get(
            "/asyncapi",
            tags=["operations"],
            dependencies=[Depends(public())],
            response_class=HTMLResponse,
        )
        async def asyncapi_html(request: Request) -> HTMLResponse:
            """The AsyncAPI document, rendered (local assets only)."""
            document = exact_document(self.asyncapi().to_specification().to_jsonable())
            return asyncapi_page(request, f"Botram {self.service}", document)
