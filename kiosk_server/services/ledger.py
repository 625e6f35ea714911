"""The ledger: the one place where money moves.

Money moves only through this module's statements. `post_entry` (and `move_and_record`, its
ORM-free part) does two things in the caller's transaction: a guarded update of the account's
running balance (`accounts.balance_cents`) that refuses a debit which would take the balance
below the site's floor, then the insert of the immutable ledger entry. A till's purchase runs
the same two as the first steps of its one statement (`move_and_record_ctes`). The running
balance therefore always equals the sum of the account's entries (tests check it after random
sequences and after the concurrency run).

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
from typing import Any, Literal, cast

from sqlalchemy import Integer, Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from kiosk_server.models import Account, LedgerEntry, Site
from kiosk_server.problems import ProblemError
from kiosk_server.site_settings import SiteSettings

EntryKind = Literal["top_up", "purchase", "refund", "adjustment"]
ENTRY_KINDS: tuple[EntryKind, ...] = ("top_up", "purchase", "refund", "adjustment")


def overdraft_limit_cents(site: Site) -> int:
    """How far below zero the site lets a balance go (0: not at all)."""
    return SiteSettings.model_validate(site.settings or {}).overdraft_limit_cents


async def post_entry(
    session: AsyncSession,
    *,
    account: Account,
    site: Site,
    kind: EntryKind,
    amount_cents: int,
    reason: str,
    now: dt.datetime,
) -> LedgerEntry:
    """Move `amount_cents` (positive: credit, negative: debit) on the account, in the caller's
    transaction. A debit that would take the balance below `-overdraft_limit_cents` of the site
    raises `ProblemError("insufficient-balance")` and changes nothing; a credit is always taken.

    After it returns, `account.balance_cents` holds the new running balance."""
    if account.site_id != site.id:
        raise ValueError("the account does not belong to this site")
    parameters = entry_parameters(
        site=site,
        account_id=account.id,
        kind=kind,
        amount_cents=amount_cents,
        reason=reason,
        now=now,
    )
    # The statements below are Core ones, which do not flush the session: what the caller
    # changed through the ORM (an order, its lines) goes first.
    await session.flush()
    entry_id, balance = await move_and_record(session, parameters)
    entry = LedgerEntry(id=entry_id, **{name: parameters[f"e_{name}"] for name in _ENTRY_COLUMNS})
    # The entry is in the table: attach it to the session as loaded, not as new.
    make_transient_to_detached(entry)
    session.add(entry)
    set_committed_value(account, "balance_cents", balance)
    return entry


def entry_parameters(
    *,
    site: Site,
    account_id: int,
    kind: EntryKind,
    amount_cents: int,
    reason: str,
    now: dt.datetime,
    overdraft_limit: int | None = None,
) -> dict[str, Any]:
    """The bound parameters of one movement for `move_and_record` (or for a statement built on
    `move_and_record_ctes`): `account_id`, a debit's `limit` and the entry's `e_<column>`.

    `overdraft_limit`: the site's `overdraft_limit_cents`, when the caller already has its
    settings (read from `site` otherwise). The account must belong to `site`: the caller
    checks it (`post_entry` on the account, a till's purchase in the badge's statement)."""
    if kind not in ENTRY_KINDS:
        raise ValueError(f"unknown ledger entry kind: {kind}")
    if amount_cents == 0:
        raise ValueError("a ledger entry moves a non-zero amount")
    parameters: dict[str, Any] = {
        "account_id": account_id,
        "e_site_id": site.id,
        "e_account_id": account_id,
        "e_kind": kind,
        "e_amount_cents": amount_cents,
        "e_currency": site.currency,
        "e_reason": reason[:200],
        "e_created_at": now,
    }
    if amount_cents < 0:
        # The account's copy of the site's limit is refreshed on each debit, in the same
        # statement, so that the CHECK constraint always holds: a credit never lowers the
        # balance, and a debit passes the guard with the very limit it writes.
        parameters["limit"] = (
            overdraft_limit_cents(site) if overdraft_limit is None else overdraft_limit
        )
    return parameters


async def move_and_record(session: AsyncSession, parameters: dict[str, Any]) -> tuple[int, int]:
    """The guarded update of the balance and the insert of the entry (`entry_parameters`), in
    the caller's transaction: `(entry id, new balance)`, or `insufficient_balance()` raised with
    nothing written.

    PostgreSQL: one round trip (`_move_and_record`). SQLite has no data-modifying CTEs: the
    update, then the insert."""
    debit = parameters["e_amount_cents"] < 0
    if session.get_bind().dialect.name == "postgresql":
        row = (await session.execute(_move_and_record(debit=debit), parameters)).first()
        if row is None:
            raise insufficient_balance()
        return int(row.id), int(row.balance_cents)
    balance = await session.scalar(_move(debit=debit), parameters)
    if balance is None:
        raise insufficient_balance()
    entry_id = await session.scalar(_record(), parameters)
    return int(entry_id), int(balance)


def insufficient_balance() -> ProblemError:
    """The refusal of a debit that the guard stopped."""
    return ProblemError(
        "insufficient-balance",
        "The balance is too low for this amount. Top up the account first.",
    )


_ACCOUNTS = cast(Table, Account.__table__)
_ENTRIES = cast(Table, LedgerEntry.__table__)
_ENTRY_COLUMNS = (
    "site_id",
    "account_id",
    "kind",
    "amount_cents",
    "currency",
    "reason",
    "created_at",
)


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
def move_and_record_ctes(*, debit: bool) -> tuple[Any, Any]:
    """PostgreSQL: `moved AS (<_move>)` and `recorded AS (INSERT INTO ledger_entries ... SELECT
    :e_<column>, ... FROM moved RETURNING id)`, the CTEs of `_move_and_record`, for a statement
    that writes more in the same round trip (a till's purchase: its ticket and lines, see
    `tickets._purchase_statement`). The entry takes its row from the update's: no update means
    no entry, and nothing built on `recorded` either.

    Built once: building CTEs costs more CPU than running them."""
    moved = _move(debit=debit).cte("moved")
    recorded = (
        insert(_ENTRIES)
        .from_select(list(_ENTRY_COLUMNS), select(*_entry_values()).select_from(moved))
        .returning(_ENTRIES.c.id)
        .cte("recorded")
    )
    return moved, recorded


@functools.cache
def _move_and_record(*, debit: bool) -> Any:
    """`WITH moved AS (UPDATE accounts ... RETURNING balance_cents), recorded AS (INSERT INTO
    ledger_entries ... SELECT ... FROM moved RETURNING id) SELECT id, (SELECT balance_cents FROM
    moved)` (PostgreSQL: data-modifying CTEs), with the parameters of `entry_parameters`. The
    same guard as the SQLite path's `_move`."""
    moved, recorded = move_and_record_ctes(debit=debit)
    balance = select(moved.c.balance_cents).scalar_subquery().label("balance_cents")
    return select(recorded.c.id, balance)


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


__all__ = [
    "ENTRY_KINDS",
    "EntryKind",
    "entry_parameters",
    "insufficient_balance",
    "mismatched_balances",
    "move_and_record",
    "move_and_record_ctes",
    "overdraft_limit_cents",
    "post_entry",
    "sum_of_entries",
]
