"""A person's session and account read straight on the driver (`direct_reads`, as every request of
a signed-in person reads them): the same values as the ORM's read, on SQLite and PostgreSQL, held
by the session like what it loads itself; on SQLite, read without a trip to aiosqlite's thread,
and on that thread when the database is locked rather than making the event loop wait."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from fastapi import FastAPI
from sqlalchemy import event, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server import sqlite_driver
from kiosk_server.db import read_outside_transaction
from kiosk_server.models import Account, Device, PersonSession
from kiosk_server.security import new_token, sha256_hex
from kiosk_server.services import auth
from tests.factories import Factory

pytestmark = pytest.mark.usefixtures("api")  # the app's lifespan: its engine


async def _signed_in(factory: Factory) -> tuple[Device, str, Account]:
    site = await factory.site(settings={"overdraft_limit_cents": 500})
    account = await factory.account(site, "4021", pin="246810", roles=["member", "host"])
    enrolled = await factory.device([site])
    token = new_token()
    now = factory.clock.now()
    async with factory.session_factory() as session:
        stored = await session.get(Account, account.id)
        assert stored is not None
        stored.preferences = {"language": "en", "low_balance_cents": 300}
        stored.balance_cents = 1250
        session.add(
            PersonSession(
                token_hash=sha256_hex(token),
                account_id=account.id,
                device_id=enrolled.id,
                created_at=now,
                expires_at=now + dt.timedelta(minutes=5),
            )
        )
        await session.commit()
    device = await factory.get(Device, enrolled.id)
    return device, token, account


def _columns(entity: Any) -> dict[str, Any]:
    return {prop.key: getattr(entity, prop.key) for prop in inspect(type(entity)).column_attrs}


async def _read(session: AsyncSession, device: Device, token: str) -> tuple[Any, Any]:
    await read_outside_transaction(session)
    return await auth.person_session_on(session, device=device, token=token)


async def test_the_direct_read_answers_what_the_orm_reads(
    service_app: FastAPI, factory: Factory
) -> None:
    device, token, account = await _signed_in(factory)
    async with service_app.state.session_factory() as session:
        person_session, read = await _read(session, device, token)
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
        assert await _read(session, device, new_token()) == (None, None)
    async with service_app.state.session_factory() as session:
        assert await _read(session, other, token) == (None, None)


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
            _, read = await _read(session, device, token)
            await session.commit()
            assert read in session and not session.dirty
            # Read again in the same session: the session's own object, as the ORM answers.
            assert await session.get(Account, account.id) is read
            assert (await _read(session, device, token))[1] is read
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
    async with service_app.state.session_factory() as session:
        await read_outside_transaction(session)
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
        assert isinstance(driver, aiosqlite.Connection)
        trips: list[object] = []
        run: Any = driver._execute

        async def counted(function: Any, *args: Any, **kwargs: Any) -> Any:
            trips.append(function)
            return await run(function, *args, **kwargs)

        monkeypatch.setattr(driver, "_execute", counted)
        _, read = await auth.person_session_on(session, device=device, token=token)
        await session.commit()
    assert read is not None and read.id == account.id
    assert trips == []


def test_on_sqlite_the_loops_read_of_a_locked_database_fails_at_once(tmp_path: Path) -> None:
    """Another process holds the database in exclusive mode, which even a read in WAL mode waits
    for. The read that runs on the event loop does not wait: it fails at once, the holder still
    holding the lock, and leaves the connection's busy timeout as it was."""
    path = tmp_path / "locked.db"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE notes (body TEXT)")
        setup.execute("INSERT INTO notes VALUES ('one')")
    holder = sqlite3.connect(path, isolation_level=None)
    reader = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(sqlite3.OperationalError) as failed:
            sqlite_driver._read_now(reader, "SELECT body FROM notes", ())
        assert failed.value.sqlite_errorcode == sqlite3.SQLITE_BUSY
        assert holder.in_transaction  # it did not outwait the holder
        assert reader.execute("PRAGMA busy_timeout").fetchone() == (30000,)
        holder.execute("COMMIT")
        holder.close()
        assert sqlite_driver._read_now(reader, "SELECT body FROM notes", ()) == ("one",)
    finally:
        holder.close()
        reader.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_on_sqlite_a_read_that_finds_the_database_locked_waits_on_aiosqlites_thread(
    service_app: FastAPI, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    device, token, account = await _signed_in(factory)
    refused: list[str] = []

    def locked(_connection: Any, operation: str, _parameters: Any) -> Any:
        refused.append(operation)
        error = sqlite3.OperationalError("database is locked")
        error.sqlite_errorcode = sqlite3.SQLITE_BUSY
        raise error

    monkeypatch.setattr(sqlite_driver, "_read_now", locked)
    async with service_app.state.session_factory() as session:
        _, read = await _read(session, device, token)
        await session.commit()
    assert len(refused) == 1
    assert read.id == account.id
