"""The statements behind `ledger.post`, built once and run with parameters: the guarded
balance update, the ledger entry, the ticket and its lines, as four statements (SQLite) or as
one of data-modifying CTEs (PostgreSQL, `posting_statement`), which may also store the
request's idempotency answer. Both write the same rows (`tests/server/test_money_paths.py`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Integer, Table, bindparam, exists, insert, select, union_all, update

from kiosk_server.models import Account, LedgerEntry, Ticket, TicketLine
from kiosk_server.services import idempotency_keys

if TYPE_CHECKING:
    from kiosk_server.services.money.ledger import AnswerBody, Line, Movement


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


def parameters(movement: Movement) -> dict[str, Any]:
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
    for index, row in enumerate(line_rows(movement.lines)):
        parameters.update({f"l{index}_{name}": value for name, value in row.items()})
    return parameters


def line_rows(lines: Sequence[Line]) -> list[dict[str, Any]]:
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
def move(*, debit: bool) -> Any:
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
def record() -> Any:
    """`INSERT INTO ledger_entries ... VALUES (:e_<column>, ...) RETURNING id` (SQLite: after
    `move`)."""
    return (
        insert(_ENTRIES)
        .values(dict(zip(_ENTRY_COLUMNS, _entry_values(), strict=True)))
        .returning(_ENTRIES.c.id)
    )


@functools.cache
def ticket_statement() -> Any:
    """`INSERT INTO tickets ... VALUES (:t_<column>, ...) RETURNING id` (SQLite: after
    `record`)."""
    return (
        insert(_TICKETS)
        .values(
            {name: bindparam(f"t_{name}", type_=_TICKETS.c[name].type) for name in _TICKET_COLUMNS}
        )
        .returning(_TICKETS.c.id)
    )


@functools.cache
def line_statement() -> Any:
    """`INSERT INTO ticket_lines ... VALUES (:ticket_id, :<column>, ...)`, run with one set of
    parameters per line (SQLite: after `ticket_statement`)."""
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
def posting_statement(line_count: int, *, debit: bool, body: AnswerBody | None) -> Any:
    """PostgreSQL, a whole movement in one round trip: `WITH moved AS (UPDATE accounts ...
    RETURNING balance_cents)` (the guarded update, `move`), `recorded AS (INSERT INTO
    ledger_entries SELECT :e_<column>, ... FROM moved RETURNING id)`, `made AS (INSERT INTO
    tickets SELECT ..., recorded.id, (SELECT balance_cents FROM moved), ... FROM recorded
    RETURNING id, ledger_entry_id, balance_after_cents)`, `lined AS (INSERT INTO ticket_lines
    SELECT made.id, :l0_<column>, ... FROM made UNION ALL ...)`, and with a `body`, `stored AS
    (UPDATE idempotency_keys ... )` (`idempotency_keys.store_answer_cte`); then `SELECT made.id,
    made.ledger_entry_id, made.balance_after_cents[, EXISTS (SELECT FROM stored)] FROM made`.

    Each write takes its row from the one before: a debit the guard refuses updates no row,
    so nothing is written and no row comes back. Built once per shape: building CTEs costs
    more CPU than running them."""
    moved = move(debit=debit).cte("moved")
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
        stored = idempotency_keys.store_answer_cte(body(made))
        columns.append(exists(select(stored.c.id)).label("stored"))
    # `lined` is not read: `add_cte` renders it all the same (PostgreSQL runs every
    # data-modifying CTE to completion, read or not).
    return select(*columns).add_cte(lined)
