"""Every way money moves, run the same on SQLite and on PostgreSQL, writes the same rows.

`money.ledger.post` is one path with two forms: one statement of data-modifying CTEs on
PostgreSQL, four statements in a row on SQLite. The same day at the canteen (an opening
balance, cash at reception, an order and its cancellation, a till purchase refused then paid,
an online top-up, an admin's debit) is run on a fresh database of each kind, and the rows of
every table the movements write are compared, ids, amounts, balances and times included."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kiosk_server.app import create_app
from kiosk_server.clock import ManualClock
from kiosk_server.db import as_utc
from kiosk_server.models import Account, LedgerEntry, Order, Ticket, TicketLine, TopUp
from kiosk_server.services import top_ups
from kiosk_server.services.money import adjustments, ledger
from kiosk_server.settings import ServerSettings
from tests.conftest import device_client, truncate_all
from tests.factories import Factory
from tests.server.conftest import PIN, bearer, sign_in
from tests.server.money_support import badge_token, buy, new_key, purchase_body
from tests.server.orders_support import at_paris, cancel, customer, load, place
from tests.server.top_up_support import SANDBOX_SETTINGS, start

WRITTEN = {
    "accounts": (Account, ["id", "balance_cents", "overdraft_limit_cents"]),
    "ledger_entries": (LedgerEntry, None),
    "tickets": (Ticket, None),
    "ticket_lines": (TicketLine, None),
    "orders": (
        Order,
        ["id", "state", "total_cents", "payment_entry_id", "refund_entry_id", "ticket_id"],
    ),
    "top_ups": (TopUp, ["id", "state", "amount_cents", "ledger_entry_id", "ticket_id"]),
}
"""The tables a movement writes, and the columns compared (`None`: all of them)."""


def _plain(value: Any, references: Sequence[str]) -> Any:
    """A value as both databases should give it: times in UTC, random references named."""
    if isinstance(value, dt.datetime):
        return as_utc(value)
    if isinstance(value, str):
        for reference in references:
            value = value.replace(reference, "<payment reference>")
    return value


async def _a_day_of_movements(url: str) -> dict[str, list[dict[str, Any]]]:
    """Run the day on the database at `url` (migrated, empty); its rows, table by table."""
    clock = ManualClock()
    at_paris(clock, 9, 0)
    settings = ServerSettings(
        database_url=url,
        argon2_time_cost=1,
        argon2_memory_cost_kib=8,
        argon2_parallelism=1,
        device_cache_seconds=0,
    )
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        factory = Factory(app.state.session_factory, clock=clock, argon2=app.state.argon2)
        site = await factory.site("CANTINE", settings={**SANDBOX_SETTINGS})
        await load(factory, site)
        terminal = await factory.device([site], name="Borne hall")
        till_device = await factory.device([site], role="till", name="Caisse 1")
        await factory.account(site, "R01", name="Alice Accueil", pin=PIN, roles=["reception"])
        async with (
            device_client(app, terminal.key) as kiosk,
            device_client(app, till_device.key) as till,
        ):
            jeanne, person = await customer(kiosk, factory, site, balance_cents=0)
            async with factory.session_factory() as session, session.begin():
                mine = await session.get(Account, jeanne.id)
                assert mine is not None
                await adjustments.adjust(
                    session,
                    site=site,
                    account=mine,
                    amount_cents=2000,
                    reason="Solde d'ouverture",
                    now=clock.now(),
                )
            staff = await sign_in(kiosk, "R01", PIN)
            cash = await kiosk.post(
                "/v1/cash-top-ups",
                json={"identifier": "1001", "amount_cents": 1000},
                headers={**bearer(staff.json()["token"]), "Idempotency-Key": new_key()},
            )
            assert cash.status_code == 201, cash.text
            kept = await place(kiosk, person, ("PLAT", 1), ("CAFE", 2))
            assert kept.status_code == 201, kept.text
            dropped = await place(kiosk, person, ("PANIER", 1))
            assert dropped.status_code == 201, dropped.text
            cancelled = await cancel(kiosk, person, dropped.json()["id"])
            assert cancelled.status_code == 200, cancelled.text
            token = badge_token(jeanne, site, clock)
            refused = await buy(till, purchase_body(token, ("Menu royal", 1, 9900, 1000)))
            assert refused.status_code == 409, refused.text
            paid = await buy(
                till, purchase_body(token, ("Sandwich", 1, 450, 550), ("Eau", 2, 100, 550))
            )
            assert paid.status_code == 201, paid.text
            online = await start(kiosk, person, 1500)
            assert online.status_code == 201, online.text
            async with factory.session_factory() as session, session.begin():
                assert await top_ups.apply_provider_state(
                    session, top_up_id=online.json()["id"], state="succeeded", now=clock.now()
                )
            async with factory.session_factory() as session, session.begin():
                mine = await session.get(Account, jeanne.id)
                assert mine is not None
                await adjustments.adjust(
                    session,
                    site=site,
                    account=mine,
                    amount_cents=-300,
                    reason="Double badge",
                    now=clock.now(),
                )
        written: dict[str, list[dict[str, Any]]] = {}
        async with factory.session_factory() as session:
            assert await ledger.mismatched_balances(session) == []
            # The provider's payment reference (in the entry's reason) is random: named instead.
            references = (await session.scalars(select(TopUp.provider_ref))).all()
            for name, (model, columns) in WRITTEN.items():
                table = model.__table__
                chosen = [table.c[column] for column in columns] if columns else list(table.c)
                rows = await session.execute(select(*chosen).order_by(table.c.id))
                written[name] = [
                    {key: _plain(value, references) for key, value in row._mapping.items()}
                    for row in rows
                ]
    return written


@pytest.mark.postgres
async def test_every_movement_writes_the_same_rows_on_sqlite_and_postgresql(
    sqlite_template: Path, postgres_database: str, tmp_path: Path
) -> None:
    sqlite_file = tmp_path / "kiosk.sqlite3"
    shutil.copyfile(sqlite_template, sqlite_file)
    await truncate_all(postgres_database)
    on_sqlite = await _a_day_of_movements(f"sqlite:///{sqlite_file}")
    on_postgresql = await _a_day_of_movements(postgres_database)
    # The day did move money in every way (else the comparison would prove little).
    kinds = [entry["kind"] for entry in on_sqlite["ledger_entries"]]
    assert kinds == ["adjustment", "top_up", "purchase", "purchase", "refund", "purchase"] + [
        "top_up",
        "adjustment",
    ]
    assert [line["item"] for line in on_sqlite["ticket_lines"]][-4:] == [
        "Sandwich",
        "Eau",
        "Rechargement",
        "Double badge",
    ]
    for name in WRITTEN:
        assert on_postgresql[name] == on_sqlite[name], name
