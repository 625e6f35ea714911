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
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
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

    statement = update(Account).where(Account.id == account.id)
    if amount_cents < 0:
        limit = overdraft_limit_cents(site)
        # The account's copy of the site's limit is refreshed on each debit, in the same
        # statement, so that the CHECK constraint always holds: a credit never lowers the
        # balance, and a debit passes the guard with the very limit it writes.
        statement = statement.where(Account.balance_cents + amount_cents + limit >= 0).values(
            balance_cents=Account.balance_cents + amount_cents,
            overdraft_limit_cents=limit,
        )
    else:
        statement = statement.values(balance_cents=Account.balance_cents + amount_cents)
    new_balance = await session.scalar(
        statement.returning(Account.balance_cents).execution_options(synchronize_session=False)
    )
    if new_balance is None:
        raise ProblemError(
            "insufficient-balance",
            "The balance is too low for this amount. Top up the account first.",
        )
    set_committed_value(account, "balance_cents", int(new_balance))

    entry = LedgerEntry(
        site_id=site.id,
        account_id=account.id,
        kind=kind,
        amount_cents=amount_cents,
        currency=site.currency,
        reason=reason[:200],
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    return entry


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
