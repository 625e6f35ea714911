"""The service as an ASGI application: `create_app` for tests and the embedded mode,
`create_app_from_env` for `uvicorn kiosk_server.app:create_app_from_env --factory`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

from kiosk_server.body_limit import BodyLimitMiddleware
from kiosk_server.clock import Clock, SystemClock
from kiosk_server.db import make_engine, make_session_factory
from kiosk_server.direct_reads import reader_for
from kiosk_server.notify.sms import OutboxSmsGateway, SmsGateway
from kiosk_server.problems import document_common_problems, install_problem_handlers
from kiosk_server.routes import (
    auth,
    badges,
    cash,
    catalogue,
    connect,
    device,
    evacuations,
    health,
    kitchen,
    me,
    notifications,
    orders,
    reception,
    sandbox,
    statements,
    tickets,
    till,
    top_ups,
    visitor_desk,
    visits,
    watchlist,
    webhooks,
)
from kiosk_server.routes import help as help_routes
from kiosk_server.routes.once import install_replay_handler
from kiosk_server.security import Argon2
from kiosk_server.services.devices import DeviceCache
from kiosk_server.settings import ServerSettings

TITLE = "Badge kiosk service"


def _version() -> str:
    try:
        return version("badge-kiosk")
    except PackageNotFoundError:
        return "0.0.0"


def create_app(
    settings: ServerSettings | None = None,
    *,
    clock: Clock | None = None,
    sms_gateway: SmsGateway | None = None,
    freeze_gc: bool = False,
) -> FastAPI:
    """The service. Migrations are not run here: whoever starts it runs `db.upgrade` first
    (once, not in each of several workers).

    `freeze_gc`: for a process that serves only this app (a `kiosk-server` worker), move
    everything alive once started out of the garbage collector's sight (`gc.freeze`). The
    modules, the app and SQLAlchemy's caches live as long as the process, yet each full
    collection walked them all: a worker stopped for 75-117 ms three times in a 25 s purchases
    bench, which was most of its p95 (bench/purchases_bench.py). With them frozen, full
    collections take 5-7 ms."""
    settings = settings or ServerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        app.state.engine = engine
        app.state.session_factory = make_session_factory(engine)
        app.state.direct_reader = reader_for(engine)
        if freeze_gc:
            # No collection first: it took 75 ms of the embedded service's start-up (before it
            # answers the kiosk) and found 20 objects to free.
            gc.freeze()
        sweeper = (
            asyncio.create_task(_sweep_forever(app, settings.sweep_seconds))
            if settings.sweep_seconds > 0
            else None
        )
        try:
            yield
        finally:
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            await app.state.direct_reader.close()
            await engine.dispose()

    observed = settings.telemetry
    app = FastAPI(
        title=TITLE,
        version=_version(),
        lifespan=lifespan,
        telemetry={"tracing": observed, "metrics": observed, "logs": observed},
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.sms_gateway = sms_gateway or OutboxSmsGateway()
    app.state.argon2 = Argon2.from_settings(settings)
    app.state.device_cache = DeviceCache(settings.device_cache_seconds)
    install_problem_handlers(app)
    install_replay_handler(app)
    # Outermost: a body too large is refused before anything reads it.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)

    # The routers' own routes straight in the app's route table, not the routers included:
    # FastAPI (since 0.137) builds an included router's routes a second time, for its
    # inclusion, at the first request that reaches them (every parameter's and answer's
    # pydantic adapter, every dependency's signature): the first request after start waited
    # 90-150 ms for it (a terminal's first connection, the first sign-in, each worker's first
    # purchase), on top of the build each route had at import. Each router carries the `/v1`
    # prefix itself (`routes.API`). FastAPI tries the routes in this order (twice: to choose,
    # then to handle), so the busiest come first: tills (one route, the service's busiest at
    # lunch; behind the person's eight routes, matching was 12% of a purchase's CPU), the
    # person's own reads (every screen), badges (refreshed every 30 s). No two routes match the
    # same path, so the order changes no answer (tests/server/test_routes.py).
    for module in (
        till,
        me,
        badges,
        tickets,
        orders,
        notifications,
        auth,
        device,
        catalogue,
        top_ups,
        cash,
        kitchen,
        reception,
        evacuations,
        watchlist,
        visitor_desk,
        visits,
        statements,
        connect,
        help_routes,
        webhooks,
        health,
        # The sandbox payment provider's checkout page, outside the API (a person's browser).
        sandbox,
    ):
        app.router.routes.extend(module.router.routes)
    generate = app.openapi
    app.openapi = lambda: document_common_problems(generate())  # type: ignore[method-assign]
    return app


async def _sweep_forever(app: FastAPI, seconds: float) -> None:
    """Every `seconds`: automatic check-outs and their reminders (`services.auto_checkout`). A
    failed sweep is logged and the next one tries again."""
    from kiosk_server.services.auto_checkout import sweep

    while True:
        await asyncio.sleep(seconds)
        try:
            async with app.state.session_factory() as session:
                await sweep(session, now=app.state.clock.now())
        except Exception:
            logging.getLogger("kiosk_server").exception("automatic check-out sweep failed")


def create_app_from_env() -> FastAPI:
    """The service configured from `KIOSK_SERVER_*` environment variables."""
    settings = ServerSettings()
    logging.getLogger("kiosk_server").setLevel(settings.log_level.upper())
    return create_app(settings, freeze_gc=True)
