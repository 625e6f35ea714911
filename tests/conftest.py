"""Fixtures shared by every test that needs the service: a migrated database (SQLite always,
PostgreSQL when `KIOSK_TEST_POSTGRES_URL` is set), a controllable clock, the app and an HTTP
client on it."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from kiosk_server.app import create_app
from kiosk_server.clock import ManualClock
from kiosk_server.db import upgrade
from kiosk_server.models import Base
from kiosk_server.settings import ServerSettings
from tests.factories import Factory

POSTGRES_URL_ENV = "KIOSK_TEST_POSTGRES_URL"
BASE_URL = "http://kiosk.test"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(POSTGRES_URL_ENV):
        return
    skip = pytest.mark.skip(reason=f"{POSTGRES_URL_ENV} is not set")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _plain_dsn(url: str) -> str:
    """The URL as asyncpg takes it (no `+driver`)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _run_admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(_plain_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _run_admin_blocking(url: str, statement: str) -> None:
    # In a thread of its own: session fixtures may be set up while a test's loop is running.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _run_admin(url, statement)).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per run; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "kiosk.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh database for this run on the test server, migrated once, dropped at the end."""
    server_url = os.environ.get(POSTGRES_URL_ENV)
    if not server_url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set")
    name = f"kiosk_test_{secrets.token_hex(6)}"
    _run_admin_blocking(server_url, f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        _run_admin_blocking(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of its own for this test (sync URL form)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "kiosk.sqlite3"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    await _run_admin(url, f"TRUNCATE TABLE {tables} RESTART IDENTITY CASCADE")
    return url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server_settings(database_url: str) -> ServerSettings:
    """Cheap argon2 parameters: the suite hashes many PINs and codes. No device cache: tests
    change devices and sites between two requests, as an admin would, and expect the next
    request to see it (tests/server/test_device_cache.py covers the cache, and the end-to-end
    and concurrency tests run `kiosk-server` with its defaults)."""
    return ServerSettings(
        database_url=database_url,
        argon2_time_cost=1,
        argon2_memory_cost_kib=8,
        argon2_parallelism=1,
        device_cache_seconds=0,
    )


@pytest.fixture
def service_app(server_settings: ServerSettings, clock: ManualClock) -> FastAPI:
    return create_app(server_settings, clock=clock)


@pytest.fixture
async def api(service_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the service, its lifespan running (httpx's ASGI transport does not run
    it), with no device key."""
    async with service_app.router.lifespan_context(service_app):
        transport = httpx.ASGITransport(app=service_app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield client


@pytest.fixture
def factory(api: httpx.AsyncClient, service_app: FastAPI, clock: ManualClock) -> Factory:
    """Builds sites, accounts, ledger entries and devices directly in the service's database."""
    return Factory(service_app.state.session_factory, clock=clock, argon2=service_app.state.argon2)


def device_client(app: FastAPI, device_key: str) -> httpx.AsyncClient:
    """A client that sends this device key with every request (the app's lifespan must run)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, headers={"X-Device-Key": device_key}
    )
