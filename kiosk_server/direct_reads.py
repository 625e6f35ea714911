"""Reads made on every request, run straight on the database driver.

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

`DirectRead` is an ORM select of whole entities, compiled once per dialect; its values are
converted by the dialect's own result processors, as SQLAlchemy converts them, and the entities
handed back as if the session had loaded them: each is built from its row, made detached with its
identity (`make_transient_to_detached`, which also clears the history of what was set) and added
to the session, so that the session tracks what a route then changes, as it does for what it
loads itself. Its parameters are ids and strings, which no dialect converts.

A `DirectReader` (one per engine, `reader_for`) runs them:
- on SQLite, on a connection of its own used on the event loop's thread only, which never waits
  for a lock: in WAL mode a read waits for no writer, and in the rare cases where it still would
  (another process holding the database in exclusive mode, or recovering its log) the read goes
  through the request's session instead, on aiosqlite's thread, where the busy timeout applies
  as to any statement;
- on PostgreSQL, on an asyncpg pool of its own, outside any transaction; its connections decode
  JSON as the engine's do.

tests/server/test_direct_reads.py compares the reads with the ORM's on both databases.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from kiosk_server.db import read_outside_transaction

if TYPE_CHECKING:
    import asyncpg

_Processor = Callable[[Any], Any] | None

READER_POOL_SIZE = 5
"""PostgreSQL connections each worker keeps for direct reads (beside the engine's pool): a read
holds one for a round trip, and five answer thousands a second."""

CLOSE_SECONDS = 5.0
"""How long closing the reader waits for its connections to be given back."""


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
    straight on the driver: `await reader.one(read, session, **parameters)` answers `(a, b)`
    or None (`DirectReader`)."""

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

    def compiled_for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(self._statement, dialect)
        return compiled

    def entities_of(
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
    """An instance holding `values` as loaded ones, as the ORM's loading sets them: straight into
    its `__dict__`, with no attribute event and no constructor (the constructor's events took
    two thirds of building an account)."""
    instance = inspect(entity).class_manager.new_instance()
    instance.__dict__.update(values)
    make_transient_to_detached(instance)
    return instance


class DirectReader:
    """Runs `DirectRead`s for one engine (see the module docstring); `reader_for` makes it."""

    async def one(
        self, read: DirectRead, session: AsyncSession, **parameters: int | str
    ) -> tuple[Any, ...] | None:
        """The entities of the row the read finds (or None), held by `session`."""
        raise NotImplementedError

    async def close(self) -> None:
        """Let go of what it holds (before the engine is disposed of)."""


class PostgresReader(DirectReader):
    """On PostgreSQL: reads on a small asyncpg pool of its own (`READER_POOL_SIZE`), so that a
    route that reads nothing else takes no connection from the engine's pool, and its session
    has nothing to commit or hand back (`deps.db_session`)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._dialect: Any = engine.dialect
        self._dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def one(
        self, read: DirectRead, session: AsyncSession, **parameters: int | str
    ) -> tuple[Any, ...] | None:
        compiled = read.compiled_for(self._dialect)
        values = [parameters[name] for name in compiled.parameters]
        pool = self._pool or await self._open()
        async with pool.acquire() as connection:
            row = await connection.fetchrow(compiled.sql, *values)
        return None if row is None else read.entities_of(session, row, compiled.processors)

    async def _open(self) -> asyncpg.Pool:
        import asyncpg  # not for SQLite

        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=0,
                    max_size=READER_POOL_SIZE,
                    init=self._init,
                    reset=_keep,
                    max_inactive_connection_lifetime=1800,
                )
        return self._pool

    async def _init(self, connection: asyncpg.Connection) -> None:
        """JSON decoded as the engine's connections decode it (the dialect's own set-up), for
        its result processors to find what they expect."""
        adapted = SimpleNamespace(_connection=connection)
        await self._dialect.setup_asyncpg_json_codec(adapted)
        await self._dialect.setup_asyncpg_jsonb_codec(adapted)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # A read still holding a connection gets a moment to give it back, no more: stopping
        # the service must not wait on it.
        try:
            await asyncio.wait_for(pool.close(), CLOSE_SECONDS)
        except TimeoutError:
            pool.terminate()


async def _keep(_connection: asyncpg.Connection) -> None:
    """A read leaves nothing to reset on its connection (asyncpg's default reset is a round
    trip: `RESET ALL`, `UNLISTEN *`, ... at every release); a transaction left open would
    still be rolled back by asyncpg."""


class SqliteReader(DirectReader):
    """On SQLite: reads on the event loop's thread, on a connection of its own (opened at the
    first read, on that thread), read-only and with no busy timeout."""

    def __init__(self, path: str, dialect: Dialect) -> None:
        self._path = path
        self._dialect = dialect
        self._connection: sqlite3.Connection | None = None

    async def one(
        self, read: DirectRead, session: AsyncSession, **parameters: int | str
    ) -> tuple[Any, ...] | None:
        compiled = read.compiled_for(self._dialect)
        values = [parameters[name] for name in compiled.parameters]
        try:
            row = self._database().execute(compiled.sql, values).fetchone()
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
            row = await _read_in_session(session, compiled.sql, values)
        return None if row is None else read.entities_of(session, row, compiled.processors)

    def _database(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None, timeout=0)
            connection.execute("PRAGMA query_only=ON")
            self._connection = connection
        return self._connection

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


async def _read_in_session(session: AsyncSession, sql: str, values: Sequence[Any]) -> Any:
    """The row, read through the session's connection, outside a transaction (on SQLite, on
    aiosqlite's thread), the connection then handed back."""
    await read_outside_transaction(session)
    connection = await session.connection()
    row = (await connection.exec_driver_sql(sql, tuple(values))).first()
    await session.commit()
    return row


def reader_for(engine: AsyncEngine) -> DirectReader:
    """The reader for this engine's database (opens nothing until its first read)."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return PostgresReader(engine)
    if not url.database or url.database == ":memory:":
        raise ValueError("direct reads need a database file")
    return SqliteReader(url.database, engine.dialect)
