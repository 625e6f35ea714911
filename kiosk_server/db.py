"""Database engines, sessions and migrations, for SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
POOL_SIZE = 20
"""PostgreSQL connections each worker keeps open."""
POOL_OVERFLOW = 10
"""Extra connections a worker may open at a burst (closed when returned)."""


def async_url(url: str) -> str:
    """The URL with the async driver this service uses (asyncpg, aiosqlite)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    else:
        raise ValueError(f"unsupported database: {backend}")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str) -> AsyncEngine:
    """An engine for the URL. SQLite gets WAL, a busy timeout, foreign keys and `BEGIN IMMEDIATE`
    transactions, so that two writers queue on the lock instead of failing mid-transaction."""
    if not is_sqlite(url):
        # No `pool_pre_ping`: with asyncpg it costs three round trips (BEGIN, a statement,
        # ROLLBACK) on every checkout, a third of a purchase's. A connection that died anyway
        # (a restarted server) fails its first statement as a disconnect: SQLAlchemy then
        # drops the whole pool, that one request answers 500 (a money request's key is
        # released, so its retry runs the work) and the next ones connect afresh.
        # `pool_recycle` replaces connections before idle-timeouts of proxies or firewalls.
        # A pool as large as the concurrent requests a worker serves: overflow connections
        # are closed when returned, and a new one costs a server process and re-preparing
        # every statement.
        return create_async_engine(
            async_url(url), pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_recycle=1800
        )

    from kiosk_server import sqlite_driver  # aiosqlite: not for PostgreSQL

    # One trip to aiosqlite's thread per statement, none for a commit or rollback with no
    # transaction open (the pool's rollback on return, most often).
    engine = create_async_engine(async_url(url), module=sqlite_driver.dbapi())

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN out of the driver's hands (SQLAlchemy's documented recipe), see `_on_begin`.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(_SQLITE_NO_TRANSACTION):
            return  # `read_outside_transaction`: each statement runs on its own
        # A deferred transaction that later writes can fail with "database is locked" without
        # waiting; taking the write lock up front makes writers wait for each other instead.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


_SQLITE_NO_TRANSACTION = "kiosk_sqlite_no_transaction"


async def read_outside_transaction(session: AsyncSession) -> None:
    """Run the session's next statements without a transaction, each on its own, until the
    session commits (which then only hands the connection back; the next statement starts a
    real transaction). For lone reads that run on every request: a transaction costs
    PostgreSQL two more round trips (BEGIN, COMMIT) and SQLite its write lock, taken up front.
    Nothing read this way may be the basis of a write without being read again."""
    if session.get_bind().dialect.name == "postgresql":
        options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"}
    else:
        # Not SQLAlchemy's AUTOCOMMIT: resetting it when the connection goes back to the pool
        # costs SQLite a statement. The connection already runs without implicit
        # transactions (`_on_connect`); this only skips our BEGIN IMMEDIATE.
        options = {_SQLITE_NO_TRANSACTION: True}
    await session.connection(execution_options=options)


class RequestSession(Session):
    """The ORM session of the service's sessions: one that tells whether it holds a connection
    (`holds_connection`)."""


_HOLDS_CONNECTION = "kiosk_holds_connection"


@event.listens_for(RequestSession, "after_begin")
def _on_session_begin(session: Session, _transaction: Any, _connection: Any) -> None:
    session.info[_HOLDS_CONNECTION] = True


def holds_connection(session: AsyncSession) -> bool:
    """Whether the session took a connection from the pool since it was opened (and may have
    a transaction to end on it). One that did not has nothing to commit or hand back."""
    return bool(session.sync_session.info.get(_HOLDS_CONNECTION))


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=RequestSession)


def as_utc(value: dt.datetime) -> dt.datetime:
    """A stored time as an aware UTC datetime (SQLite hands back naive UTC values)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def upgrade(url: str) -> None:
    """Run the Alembic migrations up to the latest one. Callable from inside an event loop too
    (the migrations then run in a thread with their own loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        _upgrade(url)
        return
    errors: list[BaseException] = []

    def run() -> None:
        try:
            _upgrade(url)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            errors.append(exc)

    thread = threading.Thread(target=run, name="kiosk-migrations")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _at_head(url: str) -> bool:
    """A SQLite database already at the latest migration (read with the standard library:
    Alembic and its scripts take a few hundred milliseconds to load, at every embedded start)."""
    from kiosk_server.migrations import HEAD

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return False
    path = Path(parsed.database)
    if not path.is_file():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        return False
    return rows == [(HEAD,)]


def _upgrade(url: str) -> None:
    if _at_head(url):
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not an option: ConfigParser would choke on `%` in passwords.
    config.attributes["database_url"] = url
    command.upgrade(config, "head")
