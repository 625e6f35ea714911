"""The embedded service's SQLite engine: a connection goes back to the pool with no transaction
left open, though the pool's own rollback runs only when one is (`db.make_engine`)."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from kiosk_server.db import make_engine


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
