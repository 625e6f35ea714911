"""Tickets: what a person sees of each movement of their money, and the operations that make
them (a purchase at a till, a cash top-up at reception, an admin's adjustment).

Each operation debits or credits through `ledger.post_entry` and stores its ticket in the same
transaction; the routes wrap them in `idempotency.run_once`. A till's purchase, the busiest
request, does the same without the ORM: on PostgreSQL one statement debits, records the entry,
stores the ticket, its lines and the idempotency answer (`till_purchase`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from sqlalchemy import (
    String,
    Table,
    bindparam,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from kiosk_server.cursors import decode_cursor, encode_cursor
from kiosk_server.models import Account, Device, Order, Site, Ticket, TicketLine, TopUp
from kiosk_server.problems import ProblemError
from kiosk_server.schemas import Money
from kiosk_server.schemas_money import (
    PurchaseReceipt,
    TicketDetail,
    TicketLineOut,
    TicketPage,
    TicketSummary,
    TillLine,
    TopUpReceipt,
    VatRateSummary,
)
from kiosk_server.services import idempotency, ledger, notifications
from kiosk_server.services.auth import SignedInPerson, site_settings
from kiosk_server.services.badges import spend_badge

DEFAULT_PAGE = 30
MAX_PAGE = 100
ADJUSTMENT_PLACE = "Administration"


@dataclass(frozen=True)
class Line:
    """A ticket line to record."""

    item: str
    quantity: int
    unit_price_cents: int
    vat_rate_bp: int

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_price_cents


def _money(cents: int, currency: str) -> Money:
    return Money(amount_cents=cents, currency=currency)


async def _record_ticket(
    session: AsyncSession,
    *,
    site: Site,
    account: Account,
    device: Device | None,
    place: str,
    kind: ledger.EntryKind,
    amount_cents: int,
    total_cents: int,
    reason: str,
    lines: Sequence[Line],
    now: dt.datetime,
) -> Ticket:
    """Move the money and store the ticket for it, in the caller's transaction."""
    entry = await ledger.post_entry(
        session,
        account=account,
        site=site,
        kind=kind,
        amount_cents=amount_cents,
        reason=reason,
        now=now,
    )
    ticket = Ticket(
        site_id=site.id,
        account_id=account.id,
        device_id=device.id if device is not None else None,
        ledger_entry_id=entry.id,
        kind=kind,
        place=place[:100],
        total_cents=total_cents,
        amount_cents=amount_cents,
        balance_after_cents=account.balance_cents,
        currency=site.currency,
        created_at=now,
    )
    ticket_lines = [TicketLine(**row) for row in _line_rows(lines)]
    if ticket_lines and session.get_bind().dialect.name == "postgresql":
        # The ticket and its lines in one round trip instead of two.
        statement = _ticket_and_lines_statement(len(ticket_lines))
        parameters = {f"t_{name}": getattr(ticket, name) for name in _TICKET_COLUMNS}
        parameters.update(_line_parameters(lines))
        rows = (await session.execute(statement, parameters)).all()
        ticket.id = int(rows[0].ticket_id)
        line_ids = {int(row.position): int(row.id) for row in rows}
        for ticket_line in ticket_lines:
            ticket_line.id = line_ids[ticket_line.position]
            ticket_line.ticket_id = ticket.id
            # Already in the tables: attach them as loaded, not as new.
            make_transient_to_detached(ticket_line)
            session.add(ticket_line)
        make_transient_to_detached(ticket)
        session.add(ticket)
        set_committed_value(ticket, "lines", ticket_lines)
        return ticket
    ticket.lines = ticket_lines
    session.add(ticket)
    await session.flush()
    return ticket


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


_TICKETS = cast(Table, Ticket.__table__)
_LINES = cast(Table, TicketLine.__table__)


@functools.cache
def _ticket_statement() -> Any:
    """`INSERT INTO tickets ... VALUES (:t_<column>, ...) RETURNING id`."""
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


def _line_parameters(lines: Sequence[Line]) -> dict[str, Any]:
    """The `l<index>_<column>` parameters of `_given_lines`."""
    return {
        f"l{index}_{name}": value
        for index, row in enumerate(_line_rows(lines))
        for name, value in row.items()
    }


@functools.lru_cache(maxsize=32)
def _ticket_and_lines_statement(line_count: int) -> Any:
    """`WITH recorded AS (INSERT INTO tickets ... RETURNING id), lined AS (INSERT INTO
    ticket_lines SELECT (SELECT id FROM recorded), ... UNION ALL ... RETURNING ...)
    SELECT ticket_id, id, position FROM lined` (PostgreSQL: data-modifying CTEs), with bound
    parameters `t_<column>` and `l<index>_<column>`.

    Built once per number of lines: building CTEs costs more CPU than running them."""
    recorded = _ticket_statement().cte("recorded")
    ticket_id = select(recorded.c.id).scalar_subquery()
    lined = (
        insert(_LINES)
        .from_select(["ticket_id", *_LINE_COLUMNS], _given_lines(ticket_id, line_count))
        .returning(_LINES.c.ticket_id, _LINES.c.id, _LINES.c.position)
        .cte("lined")
    )
    return select(lined.c.ticket_id, lined.c.id, lined.c.position)


@functools.lru_cache(maxsize=64)
def _purchase_statement(line_count: int, *, storing: bool) -> Any:
    """PostgreSQL, a whole purchase in one round trip: `WITH moved AS (UPDATE accounts ...),
    recorded AS (INSERT INTO ledger_entries ... FROM moved)` (the ledger's guarded debit and its
    entry, `ledger.move_and_record_ctes`), `made AS (INSERT INTO tickets SELECT ...,
    recorded.id, (SELECT balance_cents FROM moved), ... FROM recorded RETURNING id,
    balance_after_cents), lined AS (INSERT INTO ticket_lines SELECT made.id, :l0_<column>, ...
    FROM made UNION ALL ...)`, and when `storing`, `stored AS (UPDATE idempotency_keys ... FROM
    made ...)` (`idempotency.store_answer_cte`, the receipt made by `_receipt_json`); then
    `SELECT made.id, made.balance_after_cents[, EXISTS (SELECT FROM stored)] FROM made`.

    Each write takes its row from the one before: a debit the guard refuses updates no row,
    so nothing is written and no row comes back. Parameters: `ledger.entry_parameters`'s,
    `t_<column>` (but `t_ledger_entry_id` and `t_balance_after_cents`, which come from the
    CTEs), `l<index>_<column>`, and when `storing`, `r_name` and
    `idempotency.PendingAnswer.parameters()`. Built once per number of lines."""
    moved, recorded = ledger.move_and_record_ctes(debit=True)
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
        .returning(_TICKETS.c.id, _TICKETS.c.balance_after_cents)
        .cte("made")
    )
    lined = (
        insert(_LINES)
        .from_select(["ticket_id", *_LINE_COLUMNS], _given_lines(made.c.id, line_count))
        .cte("lined")
    )
    columns = [made.c.id.label("ticket_id"), made.c.balance_after_cents]
    if storing:
        stored = idempotency.store_answer_cte(_receipt_json(made))
        columns.append(exists(select(stored.c.id)).label("stored"))
    # `lined` is not read: `add_cte` renders it all the same (PostgreSQL runs every
    # data-modifying CTE to completion, read or not).
    return select(*columns).add_cte(lined)


def _receipt_json(made: Any) -> Any:
    """`SELECT json_build_object(...) FROM made`: the `PurchaseReceipt` of the purchase as
    PostgreSQL JSON, from the `made` ticket's id and balance after and the parameters
    `r_name`, `t_total_cents`, `t_currency`. What `PurchaseReceipt.model_dump(mode="json")`
    gives, keys in the same order (a test checks that the stored answer is the one sent)."""
    currency = bindparam("t_currency", type_=_TICKETS.c.currency.type)

    def money(cents: Any) -> Any:
        return func.json_build_object(
            literal_column("'amount_cents'"), cents, literal_column("'currency'"), currency
        )

    return select(
        func.json_build_object(
            literal_column("'ticket_id'"),
            made.c.id,
            literal_column("'name'"),
            bindparam("r_name", type_=String),
            literal_column("'total'"),
            money(bindparam("t_total_cents", type_=_TICKETS.c.total_cents.type)),
            literal_column("'balance_after'"),
            money(made.c.balance_after_cents),
        )
    )


async def _record_purchase(
    session: AsyncSession,
    *,
    entry: dict[str, Any],
    ticket: dict[str, Any],
    lines: Sequence[Line],
    name: str,
    pending: idempotency.PendingAnswer | None,
) -> tuple[int, int]:
    """Debit, record the entry, store the ticket and its lines, in the caller's transaction:
    `(ticket id, balance after)`, or `insufficient-balance` raised with nothing written.
    `entry`: `ledger.entry_parameters`; `ticket`: the ticket's `t_<column>` but the entry's id
    and the balance after. On PostgreSQL, the same statement stores the `pending` answer (the
    receipt, `name` being the person's): `ClaimLost` raised when the claim was taken over."""
    if session.get_bind().dialect.name == "postgresql":
        parameters = {**entry, **ticket, **_line_parameters(lines)}
        if pending is not None:
            parameters.update(pending.parameters(), r_name=name)
        statement = _purchase_statement(len(lines), storing=pending is not None)
        row = (await session.execute(statement, parameters)).first()
        if row is None:
            raise ledger.insufficient_balance()
        if pending is not None:
            if not row.stored:
                raise idempotency.ClaimLost
            pending.stored = True
        return int(row.ticket_id), int(row.balance_after_cents)
    # SQLite has no data-modifying CTEs: one statement after the other (and `run_once_storing`
    # stores the answer after).
    entry_id, balance = await ledger.move_and_record(session, entry)
    ticket_id = int(
        await session.scalar(
            _ticket_statement(),
            {**ticket, "t_ledger_entry_id": entry_id, "t_balance_after_cents": balance},
        )
    )
    await session.execute(
        _line_statement(), [{"ticket_id": ticket_id, **row} for row in _line_rows(lines)]
    )
    return ticket_id, balance


# --- operations ------------------------------------------------------------------------------


async def till_purchase(
    session: AsyncSession,
    *,
    device: Device,
    badge_token: str,
    lines: Sequence[TillLine],
    total_cents: int,
    now: dt.datetime,
    pending: idempotency.PendingAnswer | None = None,
) -> PurchaseReceipt:
    """A till's purchase for the person whose badge it read: checks the total, spends the
    token, debits the account and stores the ticket (and on PostgreSQL, the `pending` answer
    of `idempotency.run_once_storing`, the receipt, in the same statement).

    The service's busiest request, so it goes without the ORM: no `Account`, `LedgerEntry` or
    `Ticket` object and no flush, only statements built once and run with parameters. On
    PostgreSQL the work is two statements: the account read together with the token's use
    (`badges.spend_badge`), then the debit, its entry, the ticket and its lines
    (`_purchase_statement`). The rows written are those of `_record_ticket`."""
    ticket_lines = [
        Line(line.item, line.quantity, line.unit_price_cents, line.vat_rate_bp) for line in lines
    ]
    lines_total = sum(line.total_cents for line in ticket_lines)
    if lines_total != total_cents:
        raise ProblemError(
            "total-mismatch",
            f"The lines add up to {lines_total} cents, not {total_cents}.",
        )
    spent = await spend_badge(session, device=device, token=badge_token, now=now)
    site = spent.site
    amount_cents = -total_cents
    entry = ledger.entry_parameters(
        site=site,
        account_id=spent.account_id,
        kind="purchase",
        amount_cents=amount_cents,
        reason=f"purchase at {device.name}",
        now=now,
        overdraft_limit=spent.settings.overdraft_limit_cents,
    )
    ticket = {
        "t_site_id": site.id,
        "t_account_id": spent.account_id,
        "t_device_id": device.id,
        "t_kind": "purchase",
        "t_place": device.name[:100],
        "t_total_cents": total_cents,
        "t_amount_cents": amount_cents,
        "t_currency": site.currency,
        "t_created_at": now,
    }
    ticket_id, balance = await _record_purchase(
        session, entry=entry, ticket=ticket, lines=ticket_lines, name=spent.name, pending=pending
    )
    threshold = spent.low_balance_cents
    if threshold is not None and balance < threshold <= balance + total_cents:
        # Rare (a payment crossing the person's alert): only then is the account loaded.
        account = await session.get(Account, spent.account_id)
        if account is not None:
            set_committed_value(account, "balance_cents", balance)
            await notifications.alert_low_balance(
                session, account=account, site=site, before_cents=balance + total_cents, now=now
            )
    return PurchaseReceipt(
        ticket_id=ticket_id,
        name=spent.name,
        total=_money(total_cents, site.currency),
        balance_after=_money(balance, site.currency),
    )


def _format_cents(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def cash_top_up_label(site: Site) -> str:
    """The receipt line of a cash top-up, in the site's language."""
    return "Rechargement espèces" if site.locale.lower().startswith("fr") else "Cash top-up"


async def cash_top_up(
    session: AsyncSession,
    *,
    device: Device,
    staff: SignedInPerson,
    identifier: str,
    amount_cents: int,
    now: dt.datetime,
) -> TopUpReceipt:
    """Cash handed to a reception desk, credited to a person of the staff member's site."""
    if "reception" not in staff.account.roles:
        raise ProblemError("role-forbidden", "Only reception staff record cash top-ups.")
    site = staff.site
    settings = site_settings(site)
    if not settings.top_up_min_cents <= amount_cents <= settings.top_up_max_cents:
        raise ProblemError(
            "top-up-out-of-range",
            f"A top-up is between {_format_cents(settings.top_up_min_cents)} and "
            f"{_format_cents(settings.top_up_max_cents)} {site.currency}.",
        )
    account = await session.scalar(
        select(Account).where(Account.site_id == site.id, Account.identifier == identifier.strip())
    )
    if account is None:
        raise ProblemError("account-unknown", "No account with this identifier here.")
    if account.status == "blocked":
        raise ProblemError("account-blocked", "This account is blocked. Ask the site's staff.")
    label = cash_top_up_label(site)
    ticket = await _record_ticket(
        session,
        site=site,
        account=account,
        device=device,
        place=device.name,
        kind="top_up",
        amount_cents=amount_cents,
        total_cents=amount_cents,
        reason=f"cash at {device.name} by {staff.account.identifier}",
        lines=[Line(label, 1, amount_cents, 0)],
        now=now,
    )
    return TopUpReceipt(
        ticket_id=ticket.id,
        name=account.name,
        amount=_money(amount_cents, site.currency),
        balance_after=_money(ticket.balance_after_cents, site.currency),
    )


async def adjust(
    session: AsyncSession,
    *,
    site: Site,
    account: Account,
    amount_cents: int,
    reason: str,
    now: dt.datetime,
) -> Ticket:
    """An admin's correction (positive: credit, negative: debit), with its reason on the
    ticket's line. A debit follows the site's overdraft policy like any other."""
    reason = reason.strip()
    if not reason:
        raise ValueError("an adjustment needs a reason")
    if amount_cents == 0:
        raise ValueError("an adjustment moves a non-zero amount")
    return await _record_ticket(
        session,
        site=site,
        account=account,
        device=None,
        place=ADJUSTMENT_PLACE,
        kind="adjustment",
        amount_cents=amount_cents,
        total_cents=amount_cents,
        reason=reason,
        lines=[Line(reason[:200], 1, amount_cents, 0)],
        now=now,
    )


# --- history ---------------------------------------------------------------------------------


def _references() -> tuple[Any, Any]:
    """The order and the online top-up that made a ticket, as scalar subqueries correlated to
    `Ticket` (each an index lookup)."""
    order = (
        select(Order.id)
        .where(or_(Order.ticket_id == Ticket.id, Order.refund_ticket_id == Ticket.id))
        .limit(1)
        .scalar_subquery()
    )
    top_up = select(TopUp.id).where(TopUp.ticket_id == Ticket.id).limit(1).scalar_subquery()
    return order, top_up


def _summary_fields(
    ticket: Ticket, order_id: int | None = None, top_up_id: int | None = None
) -> dict[str, object]:
    return {
        "id": ticket.id,
        "kind": ticket.kind,
        "created_at": ticket.created_at.replace(tzinfo=dt.UTC)
        if ticket.created_at.tzinfo is None
        else ticket.created_at,
        "place": ticket.place,
        "total": _money(ticket.total_cents, ticket.currency),
        "amount": _money(ticket.amount_cents, ticket.currency),
        "balance_after": _money(ticket.balance_after_cents, ticket.currency),
        "order_id": order_id,
        "top_up_id": top_up_id,
    }


async def list_tickets(
    session: AsyncSession, *, account: Account, cursor: str | None, limit: int
) -> TicketPage:
    """The account's tickets, newest first, `limit` at a time after `cursor`."""
    limit = max(1, min(limit, MAX_PAGE))
    order, top_up = _references()
    query = select(Ticket, order, top_up).where(Ticket.account_id == account.id)
    if cursor:
        query = query.where(Ticket.id < decode_cursor(cursor))
    rows = list((await session.execute(query.order_by(Ticket.id.desc()).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return TicketPage(
        items=[
            TicketSummary.model_validate(_summary_fields(ticket, order_id, top_up_id))
            for ticket, order_id, top_up_id in rows
        ],
        next_cursor=encode_cursor(rows[-1][0].id) if more and rows else None,
    )


def vat_summary(lines: Sequence[Line], currency: str) -> list[VatRateSummary]:
    """Per VAT rate, from prices that include VAT: total = sum of the lines at that rate;
    base = total / (1 + rate), rounded to the cent half away from zero; VAT = total - base
    (so base + VAT is always exactly the total)."""
    totals: dict[int, int] = {}
    for line in lines:
        totals[line.vat_rate_bp] = totals.get(line.vat_rate_bp, 0) + line.total_cents
    return vat_by_rate(totals, currency)


def vat_by_rate(totals: dict[int, int], currency: str) -> list[VatRateSummary]:
    """Base, VAT and total for each rate's total (VAT included), as `vat_summary` says."""
    summary = []
    for rate, total in sorted(totals.items()):
        base = int(
            (Decimal(total) * 10_000 / Decimal(10_000 + rate)).quantize(
                Decimal(1), rounding=ROUND_HALF_UP
            )
        )
        summary.append(
            VatRateSummary(
                rate_bp=rate,
                base=_money(base, currency),
                vat=_money(total - base, currency),
                total=_money(total, currency),
            )
        )
    return summary


async def ticket_detail(session: AsyncSession, *, account: Account, ticket_id: int) -> TicketDetail:
    """One of the account's tickets with its lines; another person's is `ticket-unknown`."""
    order, top_up = _references()
    found = (
        await session.execute(
            select(Ticket, order, top_up)
            .where(Ticket.id == ticket_id, Ticket.account_id == account.id)
            .options(selectinload(Ticket.lines))
        )
    ).first()
    if found is None:
        raise ProblemError("ticket-unknown", "No such ticket in your history.")
    ticket, order_id, top_up_id = found
    lines = [
        Line(line.item, line.quantity, line.unit_price_cents, line.vat_rate_bp)
        for line in ticket.lines
    ]
    currency = ticket.currency
    return TicketDetail.model_validate(
        {
            **_summary_fields(ticket, order_id, top_up_id),
            "lines": [
                TicketLineOut(
                    item=line.item,
                    quantity=line.quantity,
                    unit_price=_money(line.unit_price_cents, currency),
                    vat_rate_bp=line.vat_rate_bp,
                    line_total=_money(line.total_cents, currency),
                )
                for line in lines
            ],
            "vat": vat_summary(lines, currency),
        }
    )
