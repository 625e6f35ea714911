"""Admin adjustments of a balance (`kiosk-server accounts adjust`): through the ledger like any
other movement, with a reason, and an adjustment ticket the person sees in their history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.admin import AdminError
from kiosk_server.admin.sites import get_site
from kiosk_server.models import Account
from kiosk_server.problems import ProblemError
from kiosk_server.services.money import adjustments


@dataclass(frozen=True)
class Adjusted:
    """What an adjustment did."""

    identifier: str
    name: str
    amount_cents: int
    balance_cents: int
    currency: str
    ticket_id: int


def parse_amount(text: str) -> int:
    """`-2.50`, `+10`, `3,20` → cents; AdminError for anything else (or more than 2 decimals)."""
    cleaned = text.strip().replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise AdminError(f"not an amount: {text!r} (write it like -2.50)") from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise AdminError(f"not an amount in cents: {text!r}")
    cents = int(value * 100)
    if cents == 0:
        raise AdminError("an adjustment moves a non-zero amount")
    return cents


async def adjust_balance(
    session: AsyncSession,
    *,
    site_code: str,
    identifier: str,
    amount_cents: int,
    reason: str,
    now: dt.datetime,
) -> Adjusted:
    """Credit (positive) or debit (negative) an account, with the reason on its ticket. A debit
    follows the site's overdraft policy."""
    if not reason.strip():
        raise AdminError("give the reason of the adjustment (--reason)")
    site = await get_site(session, site_code)
    account = await session.scalar(
        select(Account).where(Account.site_id == site.id, Account.identifier == identifier.strip())
    )
    if account is None:
        raise AdminError(f"no account {identifier!r} on {site.code}")
    try:
        posted = await adjustments.adjust(
            session,
            site=site,
            account=account,
            amount_cents=amount_cents,
            reason=reason,
            now=now,
        )
    except ProblemError as problem:
        raise AdminError(
            f"refused: the balance would go below the site's floor ({problem.code})"
        ) from None
    return Adjusted(
        identifier=account.identifier,
        name=account.name,
        amount_cents=amount_cents,
        balance_cents=posted.balance_after_cents,
        currency=site.currency,
        ticket_id=posted.ticket_id,
    )
