"""The ledger: the one place where money moves.

`post_entry` is the only function that changes a balance. It does two things in the caller's
transaction: a guarded update of the account's running balance (`accounts.balance_cents`) that
refuses a debit which would take the balance below the site's floor, then the insert of the
immutable ledger entry. The running balance therefore always equals the sum of the account's
entries (tests check it after random sequences and after the concurrency run).

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
    if kind not in ENTRY_KINDS:
        raise ValueError(f"unknown ledger entry kind: {kind}")
    if amount_cents == 0:
        raise ValueError("a ledger entry moves a non-zero amount")

    # The account's copy of the site's limit is refreshed on each debit, in the same statement,
    # so that the CHECK constraint always holds: a credit never lowers the balance, and a debit
    # passes the guard with the very limit it writes.
    limit = overdraft_limit_cents(site) if amount_cents < 0 else 0
    entry = LedgerEntry(
        site_id=site.id,
        account_id=account.id,
        kind=kind,
        amount_cents=amount_cents,
        currency=site.currency,
        reason=reason[:200],
        created_at=now,
    )
    if session.get_bind().dialect.name == "postgresql":
        # One round trip for both: the guarded update and the insert of the entry, which
        # takes its row from the update's, so no update means no entry.
        await session.flush()
        parameters: dict[str, object] = {
            f"e_{name}": getattr(entry, name) for name in _ENTRY_COLUMNS
        }
        parameters["account_id"] = account.id
        if amount_cents < 0:
            parameters["limit"] = limit
        statement = _move_and_record(debit=amount_cents < 0)
        row = (await session.execute(statement, parameters)).first()
        if row is None:
            raise _insufficient()
        entry.id = int(row.id)
        # The entry is in the table: attach it to the session as loaded, not as new.
        make_transient_to_detached(entry)
        session.add(entry)
        set_committed_value(account, "balance_cents", int(row.balance_cents))
        return entry

    moved = update(Account).where(Account.id == account.id)
    if amount_cents < 0:
        moved = moved.where(Account.balance_cents + amount_cents + limit >= 0).values(
            balance_cents=Account.balance_cents + amount_cents, overdraft_limit_cents=limit
        )
    else:
        moved = moved.values(balance_cents=Account.balance_cents + amount_cents)
    moved = moved.returning(Account.balance_cents)
    new_balance = await session.scalar(moved.execution_options(synchronize_session=False))
    if new_balance is None:
        raise _insufficient()
    set_committed_value(account, "balance_cents", int(new_balance))
    session.add(entry)
    await session.flush()
    return entry


def _insufficient() -> ProblemError:
    return ProblemError(
        "insufficient-balance",
        "The balance is too low for this amount. Top up the account first.",
    )


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
def _move_and_record(*, debit: bool) -> Any:
    """`WITH moved AS (UPDATE accounts ... RETURNING balance_cents), recorded AS (INSERT INTO
    ledger_entries ... SELECT ... FROM moved RETURNING id) SELECT id, (SELECT balance_cents FROM
    moved)` (PostgreSQL: data-modifying CTEs), with bound parameters `account_id`, `limit` (a
    debit's) and `e_<column>` (the entry's). The same guard as the SQLite path's `update`.

    Built once: building CTEs costs more CPU than running them."""
    accounts = cast(Table, Account.__table__)
    entries = cast(Table, LedgerEntry.__table__)
    amount = bindparam("e_amount_cents", type_=entries.c.amount_cents.type)
    moved = update(accounts).where(accounts.c.id == bindparam("account_id", type_=Integer))
    if debit:
        limit = bindparam("limit", type_=accounts.c.overdraft_limit_cents.type)
        moved = moved.where(accounts.c.balance_cents + amount + limit >= 0).values(
            balance_cents=accounts.c.balance_cents + amount, overdraft_limit_cents=limit
        )
    else:
        moved = moved.values(balance_cents=accounts.c.balance_cents + amount)
    moved_cte = moved.returning(accounts.c.balance_cents).cte("moved")
    recorded = (
        insert(entries)
        .from_select(
            list(_ENTRY_COLUMNS),
            select(
                *(bindparam(f"e_{name}", type_=entries.c[name].type) for name in _ENTRY_COLUMNS)
            ).select_from(moved_cte),
        )
        .returning(entries.c.id)
        .cte("recorded")
    )
    balance = select(moved_cte.c.balance_cents).scalar_subquery().label("balance_cents")
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
    "mismatched_balances",
    "overdraft_limit_cents",
    "post_entry",
    "sum_of_entries",
]
