"""The embedded service's SQLite engine (`db.make_engine`, `sqlite_driver`): statements answer
as sqlite3 answers them, each in one trip to aiosqlite's thread; a connection goes back to the
pool with no transaction left open, though the pool's rollback runs only when one is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kiosk_server.db import make_engine, make_session_factory, read_outside_transaction

_notes = Table(
    "notes",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("body", String, nullable=False, unique=True),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'notes.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(_notes.metadata.create_all)
    yield engine
    await engine.dispose()


async def test_statements_answer_as_sqlite_does(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        first = await connection.execute(insert(_notes).values(body="one").returning(_notes.c.id))
        assert first.scalar_one() == 1
        lone = await connection.execute(insert(_notes).values(body="two"))
        assert lone.inserted_primary_key == (2,)
        many = await connection.execute(insert(_notes), [{"body": "three"}, {"body": "four"}])
        assert many.rowcount == 2
        changed = await connection.execute(
            update(_notes).where(_notes.c.id > 2).values(body=_notes.c.body + "!")
        )
        assert changed.rowcount == 2
    async with engine.connect() as connection:
        rows = (await connection.execute(select(_notes).order_by(_notes.c.id))).all()
        assert [tuple(row) for row in rows] == [
            (1, "one"),
            (2, "two"),
            (3, "three!"),
            (4, "four!"),
        ]
        assert (await connection.execute(select(_notes.c.body).where(_notes.c.id == 9))).all() == []


async def test_a_refused_statement_is_sqlalchemys_error_and_nothing_of_it_is_kept(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(_notes).values(body="kept"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(insert(_notes).values(body="half"))
            await connection.execute(insert(_notes).values(body="kept"))
    async with engine.connect() as connection:
        bodies = (await connection.execute(select(_notes.c.body))).scalars().all()
        assert bodies == ["kept"]


async def test_a_read_outside_a_transaction_is_one_trip_to_aiosqlites_thread(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a request reads its device, and a signed-in person's session, when the device is not
    cached (`deps.current_device`): the statement is one trip, the commit that hands the
    connection back none. SQLAlchemy's own adapter made five."""
    async with engine.begin() as connection:
        await connection.execute(insert(_notes).values(body="one"))
    async with make_session_factory(engine)() as session:
        await read_outside_transaction(session)
        driver = await _driver_connection(await session.connection())
        trips: list[object] = []
        run: Any = driver._execute

        async def counted(function: Any, *args: Any, **kwargs: Any) -> Any:
            trips.append(function)
            return await run(function, *args, **kwargs)

        monkeypatch.setattr(driver, "_execute", counted)
        assert (await session.execute(select(_notes.c.body))).scalars().all() == ["one"]
        await session.commit()
        assert len(trips) == 1


async def test_a_connection_handed_back_mid_transaction_is_rolled_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE notes (body TEXT)"))
        # A transaction opened behind SQLAlchemy's back: only the pool's reset can end it.
        async with engine.connect() as connection:
            sqlite = await _driver_connection(connection)
            await sqlite.execute("BEGIN IMMEDIATE")
            await sqlite.execute("INSERT INTO notes VALUES ('half-written')")
            assert sqlite.in_transaction
        async with engine.connect() as connection:
            assert not (await _driver_connection(connection)).in_transaction
            assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar() == 0
        # The write lock was released with it: another writer gets it at once.
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes VALUES ('whole')"))
        async with engine.connect() as connection:
            bodies = (await connection.execute(text("SELECT body FROM notes"))).scalars().all()
            assert bodies == ["whole"]
    finally:
        await engine.dispose()


async def _driver_connection(connection: AsyncConnection) -> aiosqlite.Connection:
    driver = (await connection.get_raw_connection()).driver_connection
    assert isinstance(driver, aiosqlite.Connection)
    return driver
