"""Reads made on every request, run straight on the database driver under the session.

Every request of a signed-in person reads their session and account (`services.auth.
person_session_on`): one indexed row. Through SQLAlchemy's layers (the session's execute, the ORM,
Core's execution, the async adapter and its greenlet) that read took 4-5 times the statement
itself, measured in process on our 2-core bench machines (bench/me_latency.py):

| | SQLite | PostgreSQL |
|---|---|---|
| the statement on the driver | 8 µs (on the loop's thread) | 175 µs (asyncpg, a round trip) |
| the same through the session and the ORM | 455 µs | 680 µs |

On SQLite most of the difference is aiosqlite's thread: a trip there and back costs two thread
wake-ups (`sqlite_driver`).

`DirectRead` runs an ORM select of whole entities on the driver connection the session holds
(compiled once per dialect; its values converted by the dialect's own result processors, as
SQLAlchemy converts them) and hands back the entities as if the session had loaded them: each is
built from its row, made detached with its identity (`make_transient_to_detached`, which also
clears the history of what was set) and added to the session, so that the session tracks what a
route then changes, as it does for what it loads itself.

For reads outside a transaction only (`db.read_outside_transaction`), of columns with no bind
parameter to convert (ids and strings): what `direct_reads` skips of SQLAlchemy is what those
need. tests/server/test_direct_reads.py compares it with the ORM's read on both databases.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

_Processor = Callable[[Any], Any] | None


class _Compiled:
    """The statement for one dialect: its SQL, its parameters' order and a converter per column."""

    __slots__ = ("parameters", "processors", "sql")

    def __init__(self, statement: Select[*tuple[Any, ...]], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.parameters: Sequence[str] = compiled.positiontup or ()
        self.processors: list[_Processor] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        ]


class DirectRead:
    """An ORM select of entities (`select(A, B).join(...).where(...)`, with `bindparam`s), read
    straight on the driver: `await read.one(session, **parameters)` answers `(a, b)` or None."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self._entities: list[type[Any]] = [
            description["entity"] for description in statement.column_descriptions
        ]
        # Every column of every entity, entity after entity, and the attribute each fills.
        self._attributes: list[list[str]] = []
        columns: list[ColumnElement[Any]] = []
        for entity in self._entities:
            properties = inspect(entity).column_attrs
            self._attributes.append([prop.key for prop in properties])
            columns.extend(prop.columns[0] for prop in properties)
        self._statement = statement.with_only_columns(*columns)
        self._compiled: dict[str, _Compiled] = {}

    async def one(self, session: AsyncSession, **parameters: int | str) -> tuple[Any, ...] | None:
        connection = await session.connection()
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(self._statement, dialect)
        values = [parameters[name] for name in compiled.parameters]
        raw = await connection.get_raw_connection()
        if dialect.name == "sqlite":
            row = await raw.dbapi_connection.read_one(compiled.sql, values)  # type: ignore[union-attr]
        else:
            row = await raw.driver_connection.fetchrow(compiled.sql, *values)  # type: ignore[union-attr]
        if row is None:
            return None
        return self._entities_of(session, row, compiled.processors)

    def _entities_of(
        self, session: AsyncSession, row: Sequence[Any], processors: Sequence[_Processor]
    ) -> tuple[Any, ...]:
        values = [
            value if process is None or value is None else process(value)
            for value, process in zip(row, processors, strict=True)
        ]
        entities = []
        start = 0
        for entity, attributes in zip(self._entities, self._attributes, strict=True):
            end = start + len(attributes)
            loaded = _loaded(entity, dict(zip(attributes, values[start:end], strict=True)))
            # Already in the session (read earlier in the request): the session's own wins, as
            # when the ORM loads a row it already holds.
            held = session.sync_session.identity_map.get(inspect(loaded).key)
            if held is None:
                session.add(loaded)
            else:
                loaded = held
            entities.append(loaded)
            start = end
        return tuple(entities)


def _loaded(entity: type[Any], values: Mapping[str, Any]) -> Any:
    instance = entity(**values)
    make_transient_to_detached(instance)
    return instance
