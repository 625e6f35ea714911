"""Support for the tests of `kiosk-server`'s commands: an environment that keeps them away from
the developer's data directory, and a way to read a database back from a synchronous test (the
commands run their own event loop, so those tests are not async)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.db import make_engine, make_session_factory

T = TypeVar("T")

CHEAP_ARGON2 = {
    "KIOSK_SERVER_ARGON2_TIME_COST": "1",
    "KIOSK_SERVER_ARGON2_MEMORY_COST_KIB": "64",
    "KIOSK_SERVER_ARGON2_PARALLELISM": "1",
}


def isolate_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Keep the commands away from the developer's data directory and configured database,
    and make argon2 cheap. Returns the data directory used instead."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("KIOSK_DATA_DIR", str(data_dir))
    monkeypatch.delenv("KIOSK_SERVER_DATABASE_URL", raising=False)
    monkeypatch.delenv("KIOSK_SERVER_PUBLIC_BASE_URL", raising=False)
    for name, value in CHEAP_ARGON2.items():
        monkeypatch.setenv(name, value)
    return data_dir


def read_database(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` on the database in a session of its own (from a synchronous test)."""

    async def run() -> T:
        engine = make_engine(url)
        try:
            async with make_session_factory(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())
