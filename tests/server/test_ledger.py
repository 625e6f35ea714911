"""The ledger: the running balance always equals the sum of entries, the floor holds under any
sequence and any concurrency, adjustments go through it, and the migration backfills balances."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from kiosk_server.cli import main
from kiosk_server.db import async_url, make_engine, make_session_factory
from kiosk_server.models import Account, Site, Ticket
from kiosk_server.problems import ProblemError
from kiosk_server.services.money import ledger
from tests.factories import Factory
from tests.server.cli_support import isolate_environment, read_database

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


async def _new_account(session: AsyncSession, site: Site, identifier: str) -> Account:
    account = Account(
        site_id=site.id,
        identifier=identifier,
        name="Test",
        roles=[],
        status="active",
        created_at=NOW,
    )
    session.add(account)
    await session.commit()
    return account


async def _post(
    session: AsyncSession,
    site: Site,
    account: Account,
    *,
    kind: ledger.EntryKind,
    amount_cents: int,
    reason: str,
) -> ledger.Posted:
    """One movement through the ledger's one path, under the site's overdraft policy."""
    return await ledger.post(
        session,
        ledger.Movement(
            site_id=site.id,
            currency=site.currency,
            account_id=account.id,
            kind=kind,
            amount_cents=amount_cents,
            total_cents=amount_cents,
            reason=reason,
            place="Test",
            lines=[ledger.Line(reason, 1, amount_cents, 0)],
            now=NOW,
            overdraft_limit_cents=ledger.overdraft_limit_cents(site),
        ),
    )


async def _run_sequence(url: str, limit: int, amounts: list[int]) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        async with factory() as session:
            site = await session.scalar(select(Site).where(Site.code == "SEQ"))
            if site is None:
                site = Site(code="SEQ", name="Seq", settings={}, created_at=NOW)
                session.add(site)
                await session.commit()
            site.settings = {"overdraft_limit_cents": limit}
            count = len((await session.scalars(select(Account.id))).all())
            account = await _new_account(session, site, f"seq-{count}")
            expected = 0
            for amount in amounts:
                async with factory() as work:
                    mine = await work.get(Account, account.id)
                    assert mine is not None
                    try:
                        await _post(
                            work,
                            site,
                            mine,
                            kind="adjustment" if amount < 0 else "top_up",
                            amount_cents=amount,
                            reason="sequence",
                        )
                        await work.commit()
                        refused = False
                    except ProblemError as problem:
                        assert problem.code == "insufficient-balance"
                        await work.rollback()
                        refused = True
                # A debit is refused exactly when it would cross the floor; credits always pass.
                assert refused == (amount < 0 and expected + amount < -limit)
                if not refused:
                    expected += amount
                async with factory() as check:
                    running = await check.scalar(
                        select(Account.balance_cents).where(Account.id == account.id)
                    )
                    assert running == expected
                    assert await ledger.sum_of_entries(check, account.id) == expected
                    assert expected >= -limit
            async with factory() as check:
                assert await ledger.mismatched_balances(check) == []
    finally:
        await engine.dispose()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    limit=st.sampled_from([0, 500]),
    amounts=st.lists(
        st.integers(min_value=-3000, max_value=3000).filter(lambda cents: cents != 0),
        max_size=12,
    ),
)
def test_any_sequence_keeps_the_running_balance_equal_to_the_sum_and_above_the_floor(
    database_url: str, limit: int, amounts: list[int]
) -> None:
    asyncio.run(_run_sequence(database_url, limit, amounts))


async def test_an_overdraft_race_lets_exactly_the_affordable_debits_through(
    database_url: str, factory: Factory
) -> None:
    """100 concurrent debits of 10.00 on 50.00, no overdraft, each in its own session and
    transaction: exactly 5 succeed."""
    site = await factory.site("RACE")
    account = await factory.account(site, "1001", pin=None, status="active")
    await factory.ledger_entry(account, 5000)
    # 25 simultaneous transactions on PostgreSQL (the server allows 100 connections, shared with
    # other tests), the other 75 waiting for a connection; on SQLite they queue
    # on the database lock, which is the point there.
    engine = (
        make_engine(database_url)
        if database_url.startswith("sqlite")
        else create_async_engine(async_url(database_url), pool_size=25, max_overflow=0)
    )
    sessions: async_sessionmaker[AsyncSession] = make_session_factory(engine)

    async def debit() -> bool:
        async with sessions() as session:
            mine = await session.get(Account, account.id)
            assert mine is not None
            try:
                await _post(session, site, mine, kind="purchase", amount_cents=-1000, reason="race")
            except ProblemError:
                await session.rollback()
                return False
            await session.commit()
            return True

    try:
        outcomes = await asyncio.gather(*(debit() for _ in range(100)))
        async with sessions() as check:
            balance = await check.scalar(
                select(Account.balance_cents).where(Account.id == account.id)
            )
            assert await ledger.sum_of_entries(check, account.id) == 0
            assert await ledger.mismatched_balances(check) == []
    finally:
        await engine.dispose()
    assert outcomes.count(True) == 5
    assert balance == 0


async def test_the_database_refuses_a_balance_below_the_floor_whatever_the_code(
    factory: Factory,
) -> None:
    site = await factory.site("CHECK")
    account = await factory.account(site, "1001", status="active")
    await factory.ledger_entry(account, 100)
    async with factory.session_factory() as session:
        with pytest.raises(IntegrityError):
            await session.execute(
                update(Account).where(Account.id == account.id).values(balance_cents=-1)
            )
        await session.rollback()


def test_an_admin_adjustment_goes_through_the_ledger_with_a_ticket(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    isolate_environment(monkeypatch, tmp_path)
    url = database_url
    csv = tmp_path / "people.csv"
    csv.write_text("identifier,name,email,phone\n1001,Noé Petit,noe@example.com,\n")

    def run(*argv: str) -> int:
        capsys.readouterr()
        return main([*argv, "--database-url", url])

    assert run("site", "create", "demo", "--name", "Demo") == 0
    assert run("accounts", "import", "DEMO", str(csv)) == 0
    assert run("accounts", "adjust", "DEMO", "1001", "10,00", "--reason", "Geste commercial") == 0
    assert "balance 10.00 EUR" in capsys.readouterr().out
    assert run("accounts", "adjust", "DEMO", "1001", "-2.50", "--reason", "Double badge") == 0
    assert "balance 7.50 EUR" in capsys.readouterr().out
    assert run("accounts", "adjust", "DEMO", "1001", "-8.00", "--reason", "Trop") == 2
    assert "below the site's floor" in capsys.readouterr().err
    assert run("accounts", "adjust", "DEMO", "1001", "-1.005", "--reason", "x") == 2
    assert run("accounts", "adjust", "DEMO", "1001", "-1", "--reason", " ") == 2
    assert run("accounts", "adjust", "DEMO", "9999", "1", "--reason", "x") == 2

    async def read(session: AsyncSession) -> tuple[int, list[tuple[str, int, str]]]:
        account = await session.scalar(select(Account).where(Account.identifier == "1001"))
        assert account is not None
        rows = await session.scalars(
            select(Ticket).where(Ticket.account_id == account.id).order_by(Ticket.id)
        )
        assert await ledger.mismatched_balances(session) == []
        return account.balance_cents, [(t.kind, t.amount_cents, t.place) for t in rows]

    balance, tickets = read_database(url, read)
    assert balance == 750
    assert tickets == [
        ("adjustment", 1000, "Administration"),
        ("adjustment", -250, "Administration"),
    ]


def _alembic_upgrade(url: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from kiosk_server.db import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    command.upgrade(config, revision)


def test_the_money_migration_backfills_running_balances_from_the_entries(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    _alembic_upgrade(url, "0002")

    async def seed(session: AsyncSession) -> None:
        statements = [
            (
                "INSERT INTO sites (id, code, name, currency, locale, time_zone, settings, created_at,"
                " connect_secret) VALUES (1, 'OLD', 'Old', 'EUR', 'fr_FR', 'Europe/Paris', '{}',"
                " '2026-01-01', X'00')"
            ),
            (
                "INSERT INTO accounts (id, site_id, identifier, name, roles, status, created_at,"
                " badge_secret) VALUES (1, 1, 'a', 'A', '[]', 'active', '2026-01-01', X'00'),"
                " (2, 1, 'b', 'B', '[]', 'active', '2026-01-01', X'00'),"
                " (3, 1, 'c', 'C', '[]', 'active', '2026-01-01', X'00')"
            ),
            (
                "INSERT INTO ledger_entries (site_id, account_id, kind, amount_cents, currency, reason,"
                " created_at) VALUES (1, 1, 'top_up', 2000, 'EUR', '', '2026-01-01'),"
                " (1, 1, 'purchase', -750, 'EUR', '', '2026-01-01'),"
                " (1, 2, 'purchase', -300, 'EUR', '', '2026-01-01')"
            ),
        ]
        for statement in statements:
            await session.execute(text(statement))
        await session.commit()

    read_database(url, seed)
    _alembic_upgrade(url, "head")

    async def balances(session: AsyncSession) -> list[tuple[str, int, int]]:
        rows = await session.execute(
            select(
                Account.identifier, Account.balance_cents, Account.overdraft_limit_cents
            ).order_by(Account.id)
        )
        return [(a, b, c) for a, b, c in rows.all()]

    assert read_database(url, balances) == [("a", 1250, 0), ("b", -300, 300), ("c", 0, 0)]
