"""An admin's correction of a balance (`kiosk-server accounts adjust`, an import's opening
balances, the demo's): a movement like any other, with its reason on the ticket's line."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.models import Account, Site
from kiosk_server.services.money import ledger

ADJUSTMENT_PLACE = "Administration"


async def adjust(
    session: AsyncSession,
    *,
    site: Site,
    account: Account,
    amount_cents: int,
    reason: str,
    now: dt.datetime,
) -> ledger.Posted:
    """Credit (positive) or debit (negative) the account, with `reason` on the ticket's line.
    A debit follows the site's overdraft policy like any other (`insufficient-balance`)."""
    reason = reason.strip()
    if not reason:
        raise ValueError("an adjustment needs a reason")
    if account.site_id != site.id:
        raise ValueError("the account does not belong to this site")
    return await ledger.post(
        session,
        ledger.movement(
            site,
            account_id=account.id,
            kind="adjustment",
            amount_cents=amount_cents,
            reason=reason,
            place=ADJUSTMENT_PLACE,
            lines=[ledger.Line(reason[:200], 1, amount_cents, 0)],
            now=now,
            total_cents=amount_cents,
        ),
    )
