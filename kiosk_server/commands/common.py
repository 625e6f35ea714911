"""What every admin command shares: the database it works on (migrated, or the embedded demo's
seeded), one transaction per command, file reading with one-line errors, and times."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
PROG = "kiosk-server"


class CommandError(Exception):
    """A one-line reason a command could not do its work."""


def database_url(args: argparse.Namespace) -> tuple[str, bool]:
    """The URL to work on, and whether it is the embedded demo's file (which is seeded)."""
    if args.database_url:
        return args.database_url, False
    configured = os.environ.get("KIOSK_SERVER_DATABASE_URL")
    if configured:
        return configured, False
    from kiosk_server.paths import demo_database_url

    return demo_database_url(), True


def shown_url(url: str) -> str:
    """A database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def prepare_database(args: argparse.Namespace) -> str:
    """Migrate the database (and seed the demo when it is the demo's file); return its URL."""
    url, is_demo = database_url(args)
    if is_demo:
        from kiosk_server.demo import ensure_demo

        ensure_demo(url)
    else:
        from kiosk_server.db import upgrade

        upgrade(url)
    return url


def in_transaction(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction, committed only when it returns."""
    from kiosk_server.db import make_engine, make_session_factory

    async def run() -> T:
        engine = make_engine(url)
        try:
            async with make_session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def now() -> Any:
    from kiosk_server.clock import SystemClock

    return SystemClock().now()


def read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CommandError(f"no such file: {path}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None


def format_time(value: Any, time_zone: str | None = None) -> str:
    from zoneinfo import ZoneInfo

    from kiosk_server.db import as_utc

    when = as_utc(value)
    if time_zone:
        when = when.astimezone(ZoneInfo(time_zone))
    return when.strftime("%Y-%m-%d %H:%M:%S %Z")


def add_database_option(parser: argparse.ArgumentParser, *, default: Any = None) -> None:
    parser.add_argument(
        "--database-url",
        default=default,
        help="sqlite:///PATH or postgresql://USER@HOST/DB (default: $KIOSK_SERVER_DATABASE_URL, "
        "else the embedded demo's SQLite file)",
    )
