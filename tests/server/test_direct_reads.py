"""A person's session and account read straight on the driver (`direct_reads`, as every request of
a signed-in person reads them): the same values as the ORM's read, on SQLite and PostgreSQL, held
by the session like what it loads itself; on SQLite, read on the event loop's thread, and on
aiosqlite's when the database is locked rather than making the loop wait."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from typing import Any

import aiosqlite
import pytest
from fastapi import FastAPI
from sqlalchemy import event, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server import direct_reads
from kiosk_server.models import Account, Device, PersonSession
from kiosk_server.security import new_token, sha256_hex
from kiosk_server.services import auth
from tests.factories import Factory

pytestmark = pytest.mark.usefixtures("api")  # the app's lifespan: its engine


async def _signed_in(factory: Factory) -> tuple[Device, str, Account]:
    site = await factory.site(settings={"overdraft_limit_cents": 500})
    account = await factory.account(site, "4021", pin="246810", roles=["member", "host"])
    enrolled = await factory.device([site])
    device = await factory.get(Device, enrolled.id)
    async with factory.session_factory() as session:
        stored = await session.get(Account, account.id)
        assert stored is not None
        stored.preferences = {"language": "en", "low_balance_cents": 300}
        stored.balance_cents = 1250
        opened = await auth.open_session(
            session,
            device=device,
            account=stored,
            site=site,
            settings=auth.site_settings(site),
            now=factory.clock.now(),
        )
        await session.commit()
    token = opened.token
    return device, token, account


def _columns(entity: Any) -> dict[str, Any]:
    return {prop.key: getattr(entity, prop.key) for prop in inspect(type(entity)).column_attrs}


async def _read(app: FastAPI, session: AsyncSession, device: Device, token: str) -> tuple[Any, Any]:
    return await auth.person_session_on(
        session, app.state.direct_reader, device=device, token=token
    )


async def test_the_direct_read_answers_what_the_orm_reads(
    service_app: FastAPI, factory: Factory
) -> None:
    device, token, account = await _signed_in(factory)
    async with service_app.state.session_factory() as session:
        person_session, read = await _read(service_app, session, device, token)
    async with service_app.state.session_factory() as session:
        expected_session, expected_account = (
            await session.execute(
                select(PersonSession, Account)
                .join(Account, Account.id == PersonSession.account_id)
                .where(PersonSession.token_hash == sha256_hex(token))
            )
        ).one()
    assert _columns(person_session) == _columns(expected_session)
    assert _columns(read) == _columns(expected_account)
    # What the checks and the routes read, in the types they read them in.
    assert read.id == account.id
    assert read.roles == ["member", "host"]
    assert read.preferences == {"language": "en", "low_balance_cents": 300}
    assert read.balance_cents == 1250
    assert isinstance(read.badge_secret, bytes) and read.badge_secret
    assert isinstance(person_session.expires_at, dt.datetime)


async def test_an_unknown_token_or_another_device_reads_nothing(
    service_app: FastAPI, factory: Factory
) -> None:
    device, token, _ = await _signed_in(factory)
    other = await factory.get(Device, (await factory.device([])).id)
    async with service_app.state.session_factory() as session:
        assert await _read(service_app, session, device, new_token()) == (None, None)
    async with service_app.state.session_factory() as session:
        assert await _read(service_app, session, other, token) == (None, None)


async def test_the_session_holds_what_was_read_and_writes_only_what_changed(
    service_app: FastAPI, factory: Factory
) -> None:
    device, token, account = await _signed_in(factory)
    engine = service_app.state.engine
    statements: list[str] = []

    def seen(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with service_app.state.session_factory() as session:
            _, read = await _read(service_app, session, device, token)
            await session.commit()
            assert read in session and not session.dirty
            # Read again in the same session: the session's own object, as the ORM answers.
            assert await session.get(Account, account.id) is read
            assert (await _read(service_app, session, device, token))[1] is read
            await session.commit()
            assert "UPDATE" not in statements
            read.name = "Jeanne Martin-Durand"
            await session.commit()
        assert statements.count("UPDATE") == 1
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert (await factory.get(Account, account.id)).name == "Jeanne Martin-Durand"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_on_sqlite_the_read_makes_no_trip_to_aiosqlites_thread(
    service_app: FastAPI, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    device, token, account = await _signed_in(factory)
    trips: list[object] = []
    run: Any = aiosqlite.Connection._execute

    async def counted(connection: Any, function: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(function)
        return await run(connection, function, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    async with service_app.state.session_factory() as session:
        _, read = await _read(service_app, session, device, token)
        await session.commit()
    assert read is not None and read.id == account.id
    assert trips == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_on_sqlite_a_locked_database_is_waited_for_off_the_event_loop(
    service_app: FastAPI, factory: Factory, database_url: str
) -> None:
    """Another process holds the database in exclusive mode, which even a read in WAL mode waits
    for: the read waits on aiosqlite's thread, and the event loop goes on meanwhile."""
    device, token, account = await _signed_in(factory)
    await service_app.state.engine.dispose()  # exclusive mode waits for no connection open
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(tick())
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        async with service_app.state.session_factory() as session:
            reading = asyncio.create_task(_read(service_app, session, device, token))
            await asyncio.sleep(0.3)
            assert not reading.done()  # the holder holds it
            assert ticks > 3  # and the loop ran meanwhile
            holder.execute("COMMIT")
            holder.close()
            _, read = await asyncio.wait_for(reading, 10)
            await session.commit()
    finally:
        ticking.cancel()
        holder.close()
    assert read.id == account.id


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_on_postgresql_closing_the_reader_does_not_wait_on_a_connection_in_use(
    service_app: FastAPI, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    device, token, account = await _signed_in(factory)
    reader = service_app.state.direct_reader
    async with service_app.state.session_factory() as session:
        _, read = await _read(service_app, session, device, token)
    assert read.id == account.id
    monkeypatch.setattr(direct_reads, "CLOSE_SECONDS", 0.2)
    held = await reader._pool.acquire()  # a read that never gives its connection back
    backend = await held.fetchval("SELECT pg_backend_pid()")
    await asyncio.wait_for(reader.close(), 10)
    # Its connection was closed all the same: the server's process for it ends.
    async with factory.session_factory() as session:
        while await session.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": backend}
        ):
            await asyncio.sleep(0.05)
