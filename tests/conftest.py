"""Fixtures shared by every test that needs the service: a migrated database (SQLite always,
PostgreSQL when `KIOSK_TEST_POSTGRES_URL` is set), a controllable clock, the app and an HTTP
client on it. And what keeps a run off the person's own files: every test gets a data directory
of its own, and the run fails if the real one changed."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
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

ADMIN_CONNECT_SECONDS = 10
"""How long an administrative connection to the test PostgreSQL may take to open."""
ADMIN_STATEMENT_SECONDS = 60
"""How long an administrative statement may run (CREATE, DROP, TRUNCATE of a test database)."""
ADMIN_LOCK_SECONDS = 20
"""How long TRUNCATE waits for a lock: a connection left over from another test fails the next
one with PostgreSQL's "lock timeout" instead of blocking it for ever."""

# Where the app would keep its files when no test says otherwise: the XDG variables decide it for
# platformdirs (HOME stays: `uv` and the other tools keep their caches under it).
_DATA_ENV = ("KIOSK_DATA_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME")
_SCRATCH_ENV = "KIOSK_TESTS_SCRATCH"
_REAL_DATA_DIR = pytest.StashKey[tuple[Path, dict[str, tuple[int, int]]]]()


def _real_data_dir() -> Path:
    """The data directory a person's own kiosk uses on this machine (not created here)."""
    configured = os.environ.get("KIOSK_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_data_dir

    from kiosk_server.paths import APP_NAME

    return Path(user_data_dir(APP_NAME))


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Each file under `folder`, with its size and modification time (ns)."""
    if not folder.is_dir():
        return {}
    found: dict[str, tuple[int, int]] = {}
    for path in folder.rglob("*"):
        if path.is_file():
            stat = path.stat()
            found[str(path.relative_to(folder))] = (stat.st_size, stat.st_mtime_ns)
    return found


def pytest_configure(config: pytest.Config) -> None:
    """Before anything runs: note the real data directory, then point this process and every
    process a test starts at a scratch one (each test gets its own below). pytest-xdist's
    workers inherit the scratch one: the process that started them watches the real one."""
    if _SCRATCH_ENV in os.environ:
        return
    real = _real_data_dir()
    config.stash[_REAL_DATA_DIR] = (real, _listing(real))
    scratch = Path(tempfile.mkdtemp(prefix="kiosk-tests-"))
    os.environ[_SCRATCH_ENV] = str(scratch)
    for name in _DATA_ENV:
        os.environ[name] = str(scratch / name.lower())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if the real data directory changed while it ran."""
    watched = session.config.stash.get(_REAL_DATA_DIR, None)
    if watched is None:
        return
    shutil.rmtree(os.environ.pop(_SCRATCH_ENV), ignore_errors=True)
    real, before = watched
    after = _listing(real)
    changed = sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"ERROR: the tests changed the real data directory {real}: {changed}", red=True
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _own_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A data directory of this test's own: the kiosk's roll-call copies, the embedded demo's
    database and key, whatever a command run by the test writes."""
    folder = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("KIOSK_DATA_DIR", str(folder))
    for name in _DATA_ENV[1:]:
        monkeypatch.setenv(name, str(folder / name.lower()))
    return folder


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


async def run_admin(url: str, statement: str) -> None:
    """Run one administrative statement on the test PostgreSQL, every wait bounded."""
    connection = await asyncpg.connect(
        _plain_dsn(url), timeout=ADMIN_CONNECT_SECONDS, command_timeout=ADMIN_STATEMENT_SECONDS
    )
    try:
        await connection.execute(f"SET lock_timeout = '{ADMIN_LOCK_SECONDS}s'")
        await connection.execute(statement)
    finally:
        await connection.close(timeout=ADMIN_CONNECT_SECONDS)


def _run_admin_blocking(url: str, statement: str) -> None:
    # In a thread of its own: session fixtures may be set up while a test's loop is running.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run_admin(url, statement)).result(
            timeout=ADMIN_CONNECT_SECONDS + ADMIN_STATEMENT_SECONDS + ADMIN_CONNECT_SECONDS
        )


async def truncate_all(url: str) -> None:
    """Empty every table of the test database (identities restarted)."""
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    await run_admin(url, f"TRUNCATE TABLE {tables} RESTART IDENTITY CASCADE")


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
    await truncate_all(url)
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
