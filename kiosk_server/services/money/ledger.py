"""The ledger: the one place where money moves, and the one path that moves it.

`post(session, movement)` writes one movement of money in the caller's transaction: a guarded
update of the account's running balance (`accounts.balance_cents`) that refuses a debit which
would take the balance below the site's floor, the insert of the immutable ledger entry, and
the ticket the person sees, with its lines. Every operation that moves money (a till's
purchase, an order's payment and refund, a cash or online top-up, an admin's adjustment) builds
a `Movement` of plain values and posts it here. The running balance therefore always equals the
sum of the account's entries (tests check it after random sequences and after the concurrency
run).

How it runs is a detail behind `post`: on PostgreSQL the whole movement is one statement of
data-modifying CTEs (`_posting_statement`), which may also store the request's idempotency
answer; SQLite has no data-modifying CTEs, so the same writes are four statements in a row
(`_move`, `_record`, `_ticket_statement`, `_line_statement`). Both write the same rows (a test
runs the same operations on both and compares them).

Why a guarded update and not "read, check, write": the check and the write are one statement,
so on PostgreSQL two concurrent debits of one account are serialised by the row lock the update
takes, and the second one re-checks the guard against the balance the first one left (READ
COMMITTED re-evaluates the WHERE clause on the updated row). A CHECK constraint on the table
(`balance_cents + overdraft_limit_cents >= 0`) is the last line of defence. On SQLite every
write transaction takes the database lock up front (`BEGIN IMMEDIATE`), which serialises them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, cast

from sqlalchemy import Integer, Table, bindparam, exists, func, insert, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from kiosk_server.models import Account, LedgerEntry, Site, Ticket, TicketLine
from kiosk_server.problems import ProblemError
from kiosk_server.services import idempotency
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
    parameters = _parameters(movement)
    # The statements below are Core ones, which do not flush the session: what the caller
    # changed through the ORM (an order, its stock) goes first.
    await session.flush()
    debit = movement.amount_cents < 0
    if session.get_bind().dialect.name == "postgresql":
        if answer is not None:
            parameters.update(answer.pending.parameters(), **answer.parameters)
        statement = _posting_statement(
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
        balance = await session.scalar(_move(debit=debit), parameters)
        if balance is None:
            raise insufficient_balance()
        entry_id = int(await session.scalar(_record(), parameters))
        parameters.update(t_ledger_entry_id=entry_id, t_balance_after_cents=balance)
        ticket_id = int(await session.scalar(_ticket_statement(), parameters))
        await session.execute(
            _line_statement(),
            [{"ticket_id": ticket_id, **row} for row in _line_rows(movement.lines)],
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


# --- statements ------------------------------------------------------------------------------

_ACCOUNTS = cast(Table, Account.__table__)
_ENTRIES = cast(Table, LedgerEntry.__table__)
_TICKETS = cast(Table, Ticket.__table__)
_LINES = cast(Table, TicketLine.__table__)
_ENTRY_COLUMNS = (
    "site_id",
    "account_id",
    "kind",
    "amount_cents",
    "currency",
    "reason",
    "created_at",
)
_TICKET_COLUMNS = (
    "site_id",
    "account_id",
    "device_id",
    "ledger_entry_id",
    "kind",
    "place",
    "total_cents",
    "amount_cents",
    "balance_after_cents",
    "currency",
    "created_at",
)
_LINE_COLUMNS = (
    "position",
    "item",
    "quantity",
    "unit_price_cents",
    "vat_rate_bp",
    "line_total_cents",
)


def _parameters(movement: Movement) -> dict[str, Any]:
    """The bound parameters of the statements: `account_id`, a debit's `limit`, the entry's
    `e_<column>`, the ticket's `t_<column>` (but the entry's id and the balance after, which
    the statements give) and the lines' `l<index>_<column>`."""
    parameters: dict[str, Any] = {
        "account_id": movement.account_id,
        "e_site_id": movement.site_id,
        "e_account_id": movement.account_id,
        "e_kind": movement.kind,
        "e_amount_cents": movement.amount_cents,
        "e_currency": movement.currency,
        "e_reason": movement.reason[:200],
        "e_created_at": movement.now,
        "t_site_id": movement.site_id,
        "t_account_id": movement.account_id,
        "t_device_id": movement.device_id,
        "t_kind": movement.kind,
        "t_place": movement.place[:100],
        "t_total_cents": movement.total_cents,
        "t_amount_cents": movement.amount_cents,
        "t_currency": movement.currency,
        "t_created_at": movement.now,
    }
    if movement.amount_cents < 0:
        # The account's copy of the site's limit is refreshed on each debit, in the same
        # statement, so that the CHECK constraint always holds: a credit never lowers the
        # balance, and a debit passes the guard with the very limit it writes.
        parameters["limit"] = movement.overdraft_limit_cents
    for index, row in enumerate(_line_rows(movement.lines)):
        parameters.update({f"l{index}_{name}": value for name, value in row.items()})
    return parameters


def _line_rows(lines: Sequence[Line]) -> list[dict[str, Any]]:
    """The `_LINE_COLUMNS` values of each line, in order."""
    return [
        {
            "position": position,
            "item": line.item,
            "quantity": line.quantity,
            "unit_price_cents": line.unit_price_cents,
            "vat_rate_bp": line.vat_rate_bp,
            "line_total_cents": line.total_cents,
        }
        for position, line in enumerate(lines)
    ]


@functools.cache
def _move(*, debit: bool) -> Any:
    """The guarded update: `UPDATE accounts SET balance_cents = balance_cents + :e_amount_cents
    [, overdraft_limit_cents = :limit] WHERE id = :account_id [AND balance_cents +
    :e_amount_cents + :limit >= 0] RETURNING balance_cents` (the bracketed parts: a debit's).
    No row returned: the debit was refused, nothing changed."""
    amount = bindparam("e_amount_cents", type_=_ENTRIES.c.amount_cents.type)
    moved = update(_ACCOUNTS).where(_ACCOUNTS.c.id == bindparam("account_id", type_=Integer))
    if debit:
        limit = bindparam("limit", type_=_ACCOUNTS.c.overdraft_limit_cents.type)
        moved = moved.where(_ACCOUNTS.c.balance_cents + amount + limit >= 0).values(
            balance_cents=_ACCOUNTS.c.balance_cents + amount, overdraft_limit_cents=limit
        )
    else:
        moved = moved.values(balance_cents=_ACCOUNTS.c.balance_cents + amount)
    return moved.returning(_ACCOUNTS.c.balance_cents)


def _entry_values() -> list[Any]:
    return [bindparam(f"e_{name}", type_=_ENTRIES.c[name].type) for name in _ENTRY_COLUMNS]


@functools.cache
def _record() -> Any:
    """`INSERT INTO ledger_entries ... VALUES (:e_<column>, ...) RETURNING id` (SQLite: after
    `_move`)."""
    return (
        insert(_ENTRIES)
        .values(dict(zip(_ENTRY_COLUMNS, _entry_values(), strict=True)))
        .returning(_ENTRIES.c.id)
    )


@functools.cache
def _ticket_statement() -> Any:
    """`INSERT INTO tickets ... VALUES (:t_<column>, ...) RETURNING id` (SQLite: after
    `_record`)."""
    return (
        insert(_TICKETS)
        .values(
            {name: bindparam(f"t_{name}", type_=_TICKETS.c[name].type) for name in _TICKET_COLUMNS}
        )
        .returning(_TICKETS.c.id)
    )


@functools.cache
def _line_statement() -> Any:
    """`INSERT INTO ticket_lines ... VALUES (:ticket_id, :<column>, ...)`, run with one set of
    parameters per line (SQLite: after `_ticket_statement`)."""
    return insert(_LINES).values(
        {
            "ticket_id": bindparam("ticket_id", type_=_LINES.c.ticket_id.type),
            **{name: bindparam(name, type_=_LINES.c[name].type) for name in _LINE_COLUMNS},
        }
    )


def _given_lines(ticket_id: Any, line_count: int) -> Any:
    """`SELECT <ticket_id>, :l0_<column>, ... UNION ALL SELECT <ticket_id>, :l1_<column>, ...`:
    the rows of an `INSERT INTO ticket_lines ... SELECT` (the ticket's id from a CTE)."""
    given = [
        select(
            ticket_id,
            *(bindparam(f"l{index}_{name}", type_=_LINES.c[name].type) for name in _LINE_COLUMNS),
        )
        for index in range(line_count)
    ]
    return given[0] if len(given) == 1 else union_all(*given)


@functools.lru_cache(maxsize=128)
def _posting_statement(line_count: int, *, debit: bool, body: AnswerBody | None) -> Any:
    """PostgreSQL, a whole movement in one round trip: `WITH moved AS (UPDATE accounts ...
    RETURNING balance_cents)` (the guarded update, `_move`), `recorded AS (INSERT INTO
    ledger_entries SELECT :e_<column>, ... FROM moved RETURNING id)`, `made AS (INSERT INTO
    tickets SELECT ..., recorded.id, (SELECT balance_cents FROM moved), ... FROM recorded
    RETURNING id, ledger_entry_id, balance_after_cents)`, `lined AS (INSERT INTO ticket_lines
    SELECT made.id, :l0_<column>, ... FROM made UNION ALL ...)`, and with a `body`, `stored AS
    (UPDATE idempotency_keys ... )` (`idempotency.store_answer_cte`); then `SELECT made.id,
    made.ledger_entry_id, made.balance_after_cents[, EXISTS (SELECT FROM stored)] FROM made`.

    Each write takes its row from the one before: a debit the guard refuses updates no row,
    so nothing is written and no row comes back. Built once per shape: building CTEs costs
    more CPU than running them."""
    moved = _move(debit=debit).cte("moved")
    recorded = (
        insert(_ENTRIES)
        .from_select(list(_ENTRY_COLUMNS), select(*_entry_values()).select_from(moved))
        .returning(_ENTRIES.c.id)
        .cte("recorded")
    )
    balance = select(moved.c.balance_cents).scalar_subquery()
    ticket_values = [
        recorded.c.id
        if name == "ledger_entry_id"
        else balance
        if name == "balance_after_cents"
        else bindparam(f"t_{name}", type_=_TICKETS.c[name].type)
        for name in _TICKET_COLUMNS
    ]
    made = (
        insert(_TICKETS)
        .from_select(list(_TICKET_COLUMNS), select(*ticket_values).select_from(recorded))
        .returning(_TICKETS.c.id, _TICKETS.c.ledger_entry_id, _TICKETS.c.balance_after_cents)
        .cte("made")
    )
    lined = (
        insert(_LINES)
        .from_select(["ticket_id", *_LINE_COLUMNS], _given_lines(made.c.id, line_count))
        .cte("lined")
    )
    columns = [
        made.c.id.label("ticket_id"),
        made.c.ledger_entry_id.label("entry_id"),
        made.c.balance_after_cents,
    ]
    if body is not None:
        stored = idempotency.store_answer_cte(body(made))
        columns.append(exists(select(stored.c.id)).label("stored"))
    # `lined` is not read: `add_cte` renders it all the same (PostgreSQL runs every
    # data-modifying CTE to completion, read or not).
    return select(*columns).add_cte(lined)


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
