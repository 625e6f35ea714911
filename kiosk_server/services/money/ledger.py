"""The ledger: the one place where money moves, and the one path that moves it.

`post(session, movement)` writes one movement of money in the caller's transaction: a guarded
update of the account's running balance (`accounts.balance_cents`) that refuses a debit which
would take the balance below the site's floor, the insert of the immutable ledger entry, and
the ticket the person sees, with its lines. Every operation that moves money (a till's
purchase, an order's payment and refund, a cash or online top-up, an admin's adjustment) builds
a `Movement` of plain values and posts it here. The running balance therefore always equals the
sum of the account's entries (tests check it after random sequences and after the concurrency
run).

How it runs is a detail behind `post` (`money.statements`): on PostgreSQL the whole movement is
one statement of data-modifying CTEs, which may also store the request's idempotency answer;
SQLite has no data-modifying CTEs, so the same writes are four statements in a row. Both write
the same rows (a test runs the same operations on both and compares them).

Why a guarded update and not "read, check, write": the check and the write are one statement,
so on PostgreSQL two concurrent debits of one account are serialised by the row lock the update
takes, and the second one re-checks the guard against the balance the first one left (READ
COMMITTED re-evaluates the WHERE clause on the updated row). A CHECK constraint on the table
(`balance_cents + overdraft_limit_cents >= 0`) is the last line of defence. On SQLite every
write transaction takes the database lock up front (`BEGIN IMMEDIATE`), which serialises them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from kiosk_server.models import Account, LedgerEntry, Site
from kiosk_server.problems import ProblemError
from kiosk_server.services import idempotency
from kiosk_server.services.money import statements
from kiosk_server.site_settings import SiteSettings

EntryKind = Literal["top_up", "purchase", "refund", "adjustment"]
ENTRY_KINDS: tuple[EntryKind, ...] = ("top_up", "purchase", "refund", "adjustment")


def overdraft_limit_cents(site: Site) -> int:
    """How far below zero the site lets a balance go (0: not at all)."""
    return SiteSettings.model_validate(site.settings or {}).overdraft_limit_cents


@dataclass(frozen=True)
class Line:
    """A ticket line. The unit price includes VAT."""

    item: str
    quantity: int
    unit_price_cents: int
    vat_rate_bp: int

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_price_cents


class _OrderLine(Protocol):
    name: str
    quantity: int
    unit_price_cents: int
    vat_rate_bp: int


def lines_of(order_lines: Iterable[_OrderLine]) -> list[Line]:
    """The ticket lines of an order's lines (its payment's ticket and its refund's)."""
    return [
        Line(line.name, line.quantity, line.unit_price_cents, line.vat_rate_bp)
        for line in order_lines
    ]


@dataclass(frozen=True)
class Movement:
    """One movement of money: its ledger entry and its ticket.

    `amount_cents` is signed (positive: credit, negative: debit); `total_cents` is what the
    ticket shows as its total. A debit that would take the balance below
    `-overdraft_limit_cents` (the site's floor, which the caller reads once) is refused; a
    credit is always taken. `reason` is the entry's (for the ledger), `place` the ticket's
    (for the person)."""

    site_id: int
    currency: str
    account_id: int
    kind: EntryKind
    amount_cents: int
    total_cents: int
    reason: str
    place: str
    lines: Sequence[Line]
    now: dt.datetime
    device_id: int | None = None
    overdraft_limit_cents: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ENTRY_KINDS:
            raise ValueError(f"unknown ledger entry kind: {self.kind}")
        if self.amount_cents == 0:
            raise ValueError("a ledger entry moves a non-zero amount")
        if not self.lines:
            raise ValueError("a ticket has at least one line")


def movement(
    site: Site,
    *,
    account_id: int,
    kind: EntryKind,
    amount_cents: int,
    reason: str,
    place: str,
    lines: Sequence[Line],
    now: dt.datetime,
    device_id: int | None = None,
    total_cents: int | None = None,
    overdraft_limit: int | None = None,
) -> Movement:
    """A `Movement` on an account of `site`, in its currency. The ticket's total is the amount
    moved unless given; a debit's floor is the site's (`overdraft_limit`, when the caller read
    the site's settings already)."""
    if overdraft_limit is None:
        overdraft_limit = overdraft_limit_cents(site) if amount_cents < 0 else 0
    return Movement(
        site_id=site.id,
        currency=site.currency,
        account_id=account_id,
        kind=kind,
        amount_cents=amount_cents,
        total_cents=abs(amount_cents) if total_cents is None else total_cents,
        reason=reason,
        place=place,
        lines=lines,
        now=now,
        device_id=device_id,
        overdraft_limit_cents=overdraft_limit,
    )


@dataclass(frozen=True)
class Posted:
    """What `post` wrote: the entry, the ticket, and the balance after."""

    entry_id: int
    ticket_id: int
    balance_after_cents: int


AnswerBody = Callable[[Any], Any]
"""Given the `made` CTE (the ticket's `id`, `ledger_entry_id`, `balance_after_cents`), the
`SELECT` of the idempotency answer's JSON body (a module-level function: statements are built
once per function)."""


@dataclass
class StoredWith:
    """On PostgreSQL, the idempotency answer that the movement's own statement stores
    (`idempotency.once`): its body (`AnswerBody`) and that body's parameters."""

    pending: idempotency.PendingAnswer
    body: AnswerBody
    parameters: dict[str, Any] = field(default_factory=dict)


async def post(
    session: AsyncSession, movement: Movement, *, answer: StoredWith | None = None
) -> Posted:
    """Write `movement` in the caller's transaction: the guarded balance update, the ledger
    entry, the ticket and its lines; or `insufficient_balance()` raised with nothing written.

    On PostgreSQL, one statement, which also stores `answer` when given (`ClaimLost` raised
    when the claim was taken over meanwhile); SQLite stores no answer here (the caller's
    `idempotency.once` does, after). An `Account` of this session has its `balance_cents` set
    to the balance after."""
    parameters = statements.parameters(movement)
    # The statements below are Core ones, which do not flush the session: what the caller
    # changed through the ORM (an order, its stock) goes first.
    await session.flush()
    debit = movement.amount_cents < 0
    if session.get_bind().dialect.name == "postgresql":
        if answer is not None:
            parameters.update(answer.pending.parameters(), **answer.parameters)
        statement = statements.posting_statement(
            len(movement.lines), debit=debit, body=answer.body if answer else None
        )
        row = (await session.execute(statement, parameters)).first()
        if row is None:
            raise insufficient_balance()
        if answer is not None:
            if not row.stored:
                raise idempotency.ClaimLost
            answer.pending.stored = True
        posted = Posted(int(row.entry_id), int(row.ticket_id), int(row.balance_after_cents))
    else:
        balance = await session.scalar(statements.move(debit=debit), parameters)
        if balance is None:
            raise insufficient_balance()
        entry_id = int(await session.scalar(statements.record(), parameters))
        parameters.update(t_ledger_entry_id=entry_id, t_balance_after_cents=balance)
        ticket_id = int(await session.scalar(statements.ticket_statement(), parameters))
        await session.execute(
            statements.line_statement(),
            [{"ticket_id": ticket_id, **row} for row in statements.line_rows(movement.lines)],
        )
        posted = Posted(entry_id, ticket_id, int(balance))
    account = session.sync_session.identity_map.get(identity_key(Account, movement.account_id))
    if account is not None:
        set_committed_value(account, "balance_cents", posted.balance_after_cents)
    return posted


def insufficient_balance() -> ProblemError:
    """The refusal of a debit that the guard stopped."""
    return ProblemError(
        "insufficient-balance",
        "The balance is too low for this amount. Top up the account first.",
    )


# --- checks ----------------------------------------------------------------------------------


async def sum_of_entries(session: AsyncSession, account_id: int) -> int:
    """The sum of the account's ledger entries: what the running balance must equal."""
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            LedgerEntry.account_id == account_id
        )
    )
    return int(total or 0)


async def mismatched_balances(session: AsyncSession) -> list[tuple[int, int, int]]:
    """`(account_id, running balance, sum of entries)` of every account whose running balance
    differs from the sum of its entries: empty when the ledger is consistent."""
    sums = (
        select(
            LedgerEntry.account_id.label("account_id"),
            func.sum(LedgerEntry.amount_cents).label("total"),
        )
        .group_by(LedgerEntry.account_id)
        .subquery()
    )
    total = func.coalesce(sums.c.total, 0)
    rows = await session.execute(
        select(Account.id, Account.balance_cents, total)
        .outerjoin(sums, sums.c.account_id == Account.id)
        .where(Account.balance_cents != total)
        .order_by(Account.id)
    )
    return [(int(a), int(b), int(c)) for a, b, c in rows.all()]
