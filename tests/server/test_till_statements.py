"""A till's purchase as rows and statements, on SQLite and PostgreSQL: the rows it writes, the
refusals that write nothing (a refused token is not spent, a refused debit leaves no ticket),
a purchase whose idempotency claim was taken over rolled back whole, the stored answer equal
to the receipt sent, and the number of statements its work takes (two on PostgreSQL: the
account read with the token's use, then the debit with its entry, ticket, lines and the
stored answer)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, select, update

from kiosk_server.clock import ManualClock
from kiosk_server.models import (
    Account,
    BadgeTokenUse,
    IdempotencyKey,
    LedgerEntry,
    Site,
    Ticket,
    TicketLine,
)
from kiosk_server.schemas_money import TillLine
from kiosk_server.services import idempotency
from kiosk_server.services.devices import device_by_key
from kiosk_server.services.money import ledger, purchases
from kiosk_server.site_settings import SiteSettings
from kiosk_server.tokens import current_step, make_badge_token
from tests.factories import EnrolledDevice, Factory
from tests.server.conftest import PIN, assert_problem
from tests.server.money_support import badge_token, buy, new_key, purchase_body

LUNCH = ("Plat du jour", 1, 850, 1000)


async def rows_of(factory: Factory, account: Account) -> dict[str, int]:
    """What the account has in each table a purchase writes to, and its balance."""
    async with factory.session_factory() as session:

        async def count(model: Any, *where: Any) -> int:
            counted = await session.execute(select(func.count()).select_from(model).where(*where))
            return int(counted.scalar_one())

        return {
            "balance": (
                await session.execute(select(Account.balance_cents).where(Account.id == account.id))
            ).scalar_one(),
            "entries": await count(LedgerEntry, LedgerEntry.account_id == account.id),
            "tickets": await count(Ticket, Ticket.account_id == account.id),
            "lines": await count(
                TicketLine,
                TicketLine.ticket_id.in_(select(Ticket.id).where(Ticket.account_id == account.id)),
            ),
            "uses": await count(BadgeTokenUse, BadgeTokenUse.account_id == account.id),
        }


async def set_name(factory: Factory, account: Account, name: str) -> None:
    async with factory.session_factory() as session:
        await session.execute(update(Account).where(Account.id == account.id).values(name=name))
        await session.commit()


async def set_status(factory: Factory, account: Account, status: str) -> None:
    async with factory.session_factory() as session:
        await session.execute(update(Account).where(Account.id == account.id).values(status=status))
        await session.commit()


async def test_a_purchase_writes_its_entry_ticket_lines_and_token_use(
    till: httpx.AsyncClient,
    factory: Factory,
    till_device: EnrolledDevice,
    jeanne: Account,
    site: Site,
    clock: ManualClock,
) -> None:
    lines = (LUNCH, ("Café", 2, 120, 1000), ("Eau", 1, 0, 550))
    answer = await buy(till, purchase_body(badge_token(jeanne, site, clock), *lines))
    assert answer.status_code == 201, answer.text
    receipt = answer.json()
    assert receipt["balance_after"] == {"amount_cents": 910, "currency": "EUR"}
    async with factory.session_factory() as session:
        ticket = await session.get(Ticket, receipt["ticket_id"])
        assert ticket is not None
        assert (
            ticket.site_id,
            ticket.account_id,
            ticket.device_id,
            ticket.kind,
            ticket.place,
            ticket.total_cents,
            ticket.amount_cents,
            ticket.balance_after_cents,
            ticket.currency,
        ) == (site.id, jeanne.id, till_device.id, "purchase", "Caisse 1", 1090, -1090, 910, "EUR")
        entry = await session.get(LedgerEntry, ticket.ledger_entry_id)
        assert entry is not None
        assert (
            entry.site_id,
            entry.account_id,
            entry.kind,
            entry.amount_cents,
            entry.currency,
            entry.reason,
        ) == (site.id, jeanne.id, "purchase", -1090, "EUR", "purchase at Caisse 1")
        assert entry.created_at == ticket.created_at
        saved = (
            await session.scalars(
                select(TicketLine)
                .where(TicketLine.ticket_id == ticket.id)
                .order_by(TicketLine.position)
            )
        ).all()
        assert [
            (
                line.position,
                line.item,
                line.quantity,
                line.unit_price_cents,
                line.vat_rate_bp,
                line.line_total_cents,
            )
            for line in saved
        ] == [
            (0, "Plat du jour", 1, 850, 1000, 850),
            (1, "Café", 2, 120, 1000, 240),
            (2, "Eau", 1, 0, 550, 0),
        ]
        uses = (await session.scalars(select(BadgeTokenUse))).all()
        step = current_step(clock.now(), SiteSettings().badge_step_seconds)
        assert [(use.account_id, use.step, use.device_id) for use in uses] == [
            (jeanne.id, step, till_device.id)
        ]
        assert await ledger.mismatched_balances(session) == []
    assert await rows_of(factory, jeanne) == {
        "balance": 910,
        "entries": 2,  # the opening top-up and the purchase
        "tickets": 1,
        "lines": 3,
        "uses": 1,
    }


async def test_a_refused_debit_writes_nothing_and_its_refusal_is_replayed(
    till: httpx.AsyncClient, factory: Factory, jeanne: Account, site: Site, clock: ManualClock
) -> None:
    before = await rows_of(factory, jeanne)
    key = new_key()
    feast = purchase_body(badge_token(jeanne, site, clock), ("Menu", 1, 2500, 1000), LUNCH)
    assert_problem(await buy(till, feast, key), 409, "insufficient-balance")
    assert await rows_of(factory, jeanne) == before
    replayed = await buy(till, feast, key)
    assert_problem(replayed, 409, "insufficient-balance")
    assert replayed.headers["Idempotency-Replayed"] == "true"
    assert await rows_of(factory, jeanne) == before


async def test_a_token_refused_for_any_reason_is_not_spent(
    till: httpx.AsyncClient, factory: Factory, jeanne: Account, site: Site, clock: ManualClock
) -> None:
    step = current_step(clock.now(), SiteSettings().badge_step_seconds)
    forged = make_badge_token(site_id=site.id, account_id=jeanne.id, secret=b"x" * 32, step=step)
    assert_problem(await buy(till, purchase_body(forged, LUNCH)), 422, "badge-tampered")
    genuine = badge_token(jeanne, site, clock)
    await set_status(factory, jeanne, "blocked")
    assert_problem(await buy(till, purchase_body(genuine, LUNCH)), 403, "account-blocked")
    mismatched = purchase_body(genuine, LUNCH)
    mismatched["total_cents"] = 1
    assert_problem(await buy(till, mismatched), 422, "total-mismatch")
    assert (await rows_of(factory, jeanne))["uses"] == 0
    await set_status(factory, jeanne, "active")
    # The very token refused above pays now, once.
    assert (await buy(till, purchase_body(genuine, LUNCH))).status_code == 201
    assert_problem(await buy(till, purchase_body(genuine, LUNCH)), 409, "badge-already-used")
    assert await rows_of(factory, jeanne) == {
        "balance": 1150,
        "entries": 2,
        "tickets": 1,
        "lines": 1,
        "uses": 1,
    }


async def test_an_expired_token_is_not_spent(
    till: httpx.AsyncClient, factory: Factory, jeanne: Account, site: Site, clock: ManualClock
) -> None:
    stale = badge_token(jeanne, site, clock, steps_ahead=-2)
    assert_problem(await buy(till, purchase_body(stale, LUNCH)), 410, "badge-expired")
    assert (await rows_of(factory, jeanne))["uses"] == 0


async def test_a_token_naming_another_sites_account_is_a_forgery_and_spends_nothing(
    till: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    other = await factory.site("AUTRE", name="Autre site")
    stranger = await factory.account(other, "1001", name="Ana Autre", pin=PIN)
    await factory.ledger_entry(stranger, 2000)
    step = current_step(clock.now(), SiteSettings().badge_step_seconds)
    # Signed with the stranger's own secret, but claiming the till's site.
    token = make_badge_token(
        site_id=site.id, account_id=stranger.id, secret=stranger.badge_secret, step=step
    )
    assert_problem(await buy(till, purchase_body(token, LUNCH)), 422, "badge-tampered")
    unknown = make_badge_token(site_id=site.id, account_id=999_999, secret=b"y" * 32, step=step)
    assert_problem(await buy(till, purchase_body(unknown, LUNCH)), 422, "badge-tampered")
    assert await rows_of(factory, stranger) == {
        "balance": 2000,
        "entries": 1,
        "tickets": 0,
        "lines": 0,
        "uses": 0,
    }


async def claim(factory: Factory, till_device: EnrolledDevice, clock: ManualClock) -> Any:
    """A claim of a fresh key for a purchase (see `idempotency.claim_key`)."""
    claimed = await idempotency.claim_key(
        factory.session_factory,
        scope=idempotency.device_scope(till_device.id),
        key="k",
        request_hash=idempotency.request_hash("POST", "/v1/till/purchases", {"x": 1}),
        now=clock.now(),
    )
    assert isinstance(claimed, idempotency.Claim)
    return claimed


async def test_a_purchase_whose_claim_was_taken_over_is_rolled_back_whole(
    factory: Factory,
    till_device: EnrolledDevice,
    jeanne: Account,
    site: Site,
    clock: ManualClock,
) -> None:
    slow = await claim(factory, till_device, clock)
    clock.advance(seconds=61)
    fresh = await claim(factory, till_device, clock)  # the lease ran out: taken over
    assert fresh.id == slow.id
    assert fresh.owner != slow.owner
    before = await rows_of(factory, jeanne)
    async with factory.session_factory() as session:
        device = await device_by_key(session, till_device.key)
        assert device is not None
        await session.commit()
        pending = idempotency.PendingAnswer(slow, 201)
        with pytest.raises(idempotency.ClaimLost):
            # PostgreSQL: the purchase's own statement finds the claim lost. SQLite: the
            # purchase goes through, the store after it finds the claim lost.
            receipt = await purchases.till_purchase(
                session,
                device=device,
                badge_token=badge_token(jeanne, site, clock),
                lines=[TillLine(item="Plat", quantity=1, unit_price_cents=850, vat_rate_bp=1000)],
                total_cents=850,
                now=clock.now(),
                pending=pending,
            )
            assert not pending.stored
            await idempotency.store_answer(
                session, slow, status_code=201, body=receipt.model_dump(mode="json")
            )
        await session.rollback()
    assert await rows_of(factory, jeanne) == before


async def test_the_stored_answer_is_the_receipt_sent(
    till: httpx.AsyncClient, factory: Factory, jeanne: Account, site: Site, clock: ManualClock
) -> None:
    await set_name(factory, jeanne, 'Zoé "Zo" d\'Arc \\ 東京')
    key = new_key()
    body = purchase_body(badge_token(jeanne, site, clock), LUNCH, ("Café", 2, 120, 1000))
    sent = await buy(till, body, key)
    assert sent.status_code == 201, sent.text
    async with factory.session_factory() as session:
        stored = (
            await session.execute(
                select(IdempotencyKey.status_code, IdempotencyKey.response_body).where(
                    IdempotencyKey.key == key
                )
            )
        ).one()
    assert stored.status_code == 201
    assert json.dumps(stored.response_body) == json.dumps(sent.json())  # keys in order too
    replayed = await buy(till, body, key)
    assert replayed.headers["Idempotency-Replayed"] == "true"
    assert replayed.content == sent.content


@pytest.fixture
def statements(service_app: FastAPI) -> Iterator[list[str]]:
    """The SQL statements the service's engine sends while the test runs (not BEGIN and the
    like)."""
    sent: list[str] = []
    engine = service_app.state.engine.sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


async def test_the_work_of_a_purchase_takes_one_statement_after_the_badge_on_postgresql(
    factory: Factory,
    till_device: EnrolledDevice,
    jeanne: Account,
    site: Site,
    clock: ManualClock,
    statements: list[str],
) -> None:
    claimed = await claim(factory, till_device, clock)
    async with factory.session_factory() as session:
        device = await device_by_key(session, till_device.key)
        assert device is not None
        await session.commit()
        postgresql = session.get_bind().dialect.name == "postgresql"
        pending = idempotency.PendingAnswer(claimed, 201)
        statements.clear()
        receipt = await purchases.till_purchase(
            session,
            device=device,
            badge_token=badge_token(jeanne, site, clock),
            lines=[
                TillLine(item="Plat", quantity=1, unit_price_cents=850, vat_rate_bp=1000),
                TillLine(item="Café", quantity=1, unit_price_cents=120, vat_rate_bp=1000),
            ],
            total_cents=970,
            now=clock.now(),
            pending=pending,
        )
        sent = list(statements)
        if not pending.stored:
            await idempotency.store_answer(
                session, claimed, status_code=201, body=receipt.model_dump(mode="json")
            )
        await session.commit()
    assert receipt.name == "Jeanne Martin"
    assert receipt.balance_after.amount_cents == 1030
    # PostgreSQL: the account with the token's use, then the debit with its entry, ticket,
    # lines and the stored answer. SQLite has no data-modifying CTEs: account, use, debit,
    # entry, ticket, lines (and the answer stored after).
    assert len(sent) == (2 if postgresql else 6), sent
    assert pending.stored == postgresql
    async with factory.session_factory() as session:
        row = await session.get(IdempotencyKey, claimed.id)
        assert row is not None
        assert (row.state, row.status_code) == ("done", 201)
        assert row.response_body == receipt.model_dump(mode="json")
