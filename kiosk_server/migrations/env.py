"""Alembic environment: runs migrations on the async engine of `kiosk_server.db`."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from kiosk_server.db import is_sqlite, make_engine
from kiosk_server.models import Base

target_metadata = Base.metadata


def _run(connection: Connection, render_as_batch: bool) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=render_as_batch,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run, is_sqlite(url))
            await connection.commit()
    finally:
        await engine.dispose()


def main() -> None:
    url = context.config.attributes.get("database_url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("no database URL given to the migrations")
    if context.is_offline_mode():
        raise RuntimeError("offline migrations are not supported")
    asyncio.run(_run_async(url))


main()
