"""aiosqlite as SQLAlchemy drives it, with one trip to aiosqlite's thread per statement.

aiosqlite runs every call on a thread of its own, and each call is a trip there and back: the
call queued, the thread woken, the answer handed back to the event loop (about 70 µs on the
2-core machines we bench on, more under load). SQLAlchemy's adapter makes four trips per
statement (open a cursor, execute, fetch the rows, close the cursor) and one per commit or
rollback, even when no transaction is open. A signed-in person's `GET /v1/me` made five, a
third of its time in the embedded service (bench/me_latency.py).

Here a statement is one trip: the cursor is opened, run, read and closed on aiosqlite's thread,
and what SQLAlchemy reads of it afterwards (description, row count, last row id) comes back
with the rows. A commit or rollback with no transaction open makes no trip: sqlite3 does
nothing then either (it checks the same flag, `in_transaction`).

Pass `dbapi()` as `module` to `create_async_engine` with a `sqlite+aiosqlite` URL. Built on
SQLAlchemy's aiosqlite adapter (`sqlalchemy.dialects.sqlite.aiosqlite`) and on the one piece of
aiosqlite's inside it also uses: running a function on the connection's thread. Both are
pinned exactly in pyproject.toml; the SQLite tests run every statement through this
(tests/server/test_sqlite_engine.py).
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

_T = TypeVar("_T")


class _Ran:
    """What SQLAlchemy reads of a cursor once its statement ran, read on aiosqlite's thread
    before the cursor was closed there."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, cursor: sqlite3.Cursor | None = None) -> None:
        self.description = cursor.description if cursor is not None else None
        self.rowcount = cursor.rowcount if cursor is not None else -1
        self.lastrowid = cursor.lastrowid if cursor is not None else None
        self.arraysize = 1

    def close(self) -> None:
        """Closed already, on aiosqlite's thread."""


def _run(
    connection: sqlite3.Connection, operation: str, parameters: Any
) -> tuple[_Ran, list[Any] | None]:
    """On aiosqlite's thread: the statement, its rows (for one that returns rows) and what
    SQLAlchemy reads of its cursor."""
    cursor = connection.cursor()
    try:
        cursor.execute(operation, () if parameters is None else parameters)
        rows = cursor.fetchall() if cursor.description else None
        return _Ran(cursor), rows
    finally:
        cursor.close()


def _run_many(connection: sqlite3.Connection, operation: str, parameters: Sequence[Any]) -> _Ran:
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, parameters)
        return _Ran(cursor)
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's cursor over aiosqlite, one trip to its thread per statement."""

    __slots__ = ()
    # `close` is `_Ran.close`: nothing to await.
    _awaitable_cursor_close = False

    def _make_new_cursor(self, connection: Any) -> Any:
        return None  # opened on aiosqlite's thread with each statement

    def _aenter_cursor(self, cursor: Any) -> Any:
        return _Ran()

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        ran, rows = await self._on_thread(_run, operation, parameters)
        self._cursor = cast(Any, ran)  # stands for the cursor, closed already
        if rows is not None:
            self._rows = collections.deque(rows)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        ran = await self._on_thread(_run_many, operation, seq_of_parameters)
        self._cursor = cast(Any, ran)

    async def _on_thread(self, function: Callable[..., _T], *args: Any) -> _T:
        """`function(the sqlite3 connection, *args)` on aiosqlite's thread, one statement at a
        time on this connection (as SQLAlchemy's adapter runs them)."""
        connection: Any = self._connection  # aiosqlite.Connection, whose `_execute` is untyped
        async with self._adapt_connection._execute_mutex:
            result: _T = await connection._execute(function, connection._conn, *args)
        return result


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's connection over aiosqlite: `OneTripCursor`s, and no trip for a commit or
    rollback with no transaction open."""

    __slots__ = ()
    _cursor_cls = OneTripCursor

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()

    def _in_transaction(self) -> bool:
        try:
            return bool(self._connection.in_transaction)
        except ValueError:  # closed: nothing to end, as SQLAlchemy's adapter does
            return False


class _OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DB-API module to give `create_async_engine` (`module=`) for SQLite."""
    return _OneTripDBAPI(aiosqlite, sqlite3)
