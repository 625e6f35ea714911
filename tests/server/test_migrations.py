"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from kiosk_server.db import make_engine, upgrade
from kiosk_server.models import Base


def _differences(connection: Connection) -> list[Any]:
    from alembic.autogenerate import compare_metadata

    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    upgrade(database_url)  # a second run is a no-op
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == []


def test_the_recorded_head_is_alembics() -> None:
    """`migrations.HEAD` lets `db.upgrade` skip Alembic on a database already migrated: a new
    migration must move it (else an embedded database would never get the new one)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from kiosk_server.db import MIGRATIONS_DIR
    from kiosk_server.migrations import HEAD

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD]


def test_a_database_behind_the_head_is_migrated(tmp_path: Path) -> None:
    """The shortcut of `db.upgrade` skips only a database at the head: one a migration behind
    (an embedded terminal updated to a newer version) gets it."""
    import sqlite3

    from alembic import command
    from alembic.config import Config

    from kiosk_server.db import MIGRATIONS_DIR
    from kiosk_server.migrations import HEAD

    path = tmp_path / "old.sqlite3"
    url = f"sqlite:///{path}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    command.upgrade(config, "0011_contact_change")
    upgrade(url)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert {"ix_orders_ticket_id", "ix_top_ups_ticket_id"} <= indexes  # made by 0012
