"""A monthly statement for an account with 10,000 tickets: how long the service takes to build
it (the ledger and ticket sums, the VAT per rate), and to build it as a PDF, on SQLite and, when
a URL is given, on PostgreSQL. (The first PDF of a process also imports fpdf2: the warm-up runs
leave that out.)

    uv run python bench/statement_bench.py [--tickets 10000] [--postgres postgresql://postgres@127.0.0.1:5432/test]

The anchor, measured in the same run on the same database, is reading every ledger entry of the
account (one plain query, all rows fetched): the statement's time is printed with its ratio to
it, which carries between machines where milliseconds do not. The goal is ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk_server.clock import SystemClock
from kiosk_server.db import make_engine, make_session_factory, upgrade
from kiosk_server.models import Account, LedgerEntry, Site
from kiosk_server.security import Argon2
from kiosk_server.services.statements import monthly_statement
from kiosk_server.statement_pdf import statement_pdf
from tests.factories import Factory

RUNS = 20


async def timed(work: Callable[[], Awaitable[object]]) -> float:
    """Median milliseconds of `RUNS` runs, after two to warm up."""
    for _ in range(2):
        await work()
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        await work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def run(url: str, label: str, tickets: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    try:
        factory = Factory(
            make_session_factory(engine),
            clock=SystemClock(),
            argon2=Argon2(time_cost=1, memory_cost_kib=8, parallelism=1),
        )
        site = await factory.site("BENCH", name="Bench")
        account = await factory.account(site, "1001", name="Bench Person")
        # Every 50 minutes for the last `tickets` steps: about 347 days for 10,000, the newest
        # full month holding about 890 of them.
        every = dt.timedelta(minutes=50)
        start = dt.datetime.now(dt.UTC) - every * tickets
        await factory.ticket_history(account, tickets, start=start, every=every)
        last_month = (dt.datetime.now(dt.UTC).date().replace(day=1) - dt.timedelta(days=1)).replace(
            day=1
        )
        now = dt.datetime.now(dt.UTC)
        async with factory.session_factory() as session:
            stored_site = await session.get(Site, site.id)
            stored_account = await session.get(Account, account.id)
            assert stored_site is not None and stored_account is not None

            async def anchor() -> None:
                rows = await session.execute(
                    select(LedgerEntry.amount_cents, LedgerEntry.kind).where(
                        LedgerEntry.account_id == account.id
                    )
                )
                rows.all()

            async def statement() -> None:
                await monthly_statement(
                    session, account=stored_account, site=stored_site, month=last_month, now=now
                )

            anchor_ms = await timed(anchor)
            statement_ms = await timed(statement)
            built = await monthly_statement(
                session, account=stored_account, site=stored_site, month=last_month, now=now
            )

            async def pdf() -> None:
                await monthly_statement(
                    session, account=stored_account, site=stored_site, month=last_month, now=now
                )
                statement_pdf(built, locale=stored_site.locale)

            pdf_ms = await timed(pdf)
        print(f"{label}: {tickets} tickets; statement of {built.month}")
        print(f"  anchor (read the account's {tickets} ledger entries)  {anchor_ms:7.1f} ms")
        print(
            f"  statement                                       {statement_ms:7.1f} ms  "
            f"= {statement_ms / anchor_ms:.2f} × anchor  (goal ≤ 300 ms)"
        )
        print(
            f"  statement as PDF                                {pdf_ms:7.1f} ms  "
            f"= {pdf_ms / anchor_ms:.2f} × anchor  (goal ≤ 1 s)"
        )
    finally:
        await engine.dispose()


async def on_postgres(server_url: str, tickets: int) -> None:
    name = f"bench_statement_{secrets.token_hex(4)}"
    admin = make_engine(server_url)
    try:
        async with admin.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        base = server_url.rsplit("/", 1)[0]
        await run(f"{base}/{name}", "PostgreSQL", tickets)
    finally:
        async with admin.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--postgres", default=os.environ.get("KIOSK_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        asyncio.run(run(f"sqlite:///{Path(data) / 'bench.sqlite3'}", "SQLite", args.tickets))
    if args.postgres:
        asyncio.run(on_postgres(args.postgres, args.tickets))


if __name__ == "__main__":
    main()
