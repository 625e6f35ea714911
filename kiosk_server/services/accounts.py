"""What a signed-in person sees of their account."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server import schemas
from kiosk_server.models import Account, LedgerEntry, Site


async def balance_cents(session: AsyncSession, account_id: int) -> int:
    """The sum of the account's ledger entries (0 without any)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            LedgerEntry.account_id == account_id
        )
    )
    return int(total or 0)


async def me(session: AsyncSession, *, account: Account, site: Site) -> schemas.Me:
    roles = ["member", *(role for role in account.roles if role != "member")]
    return schemas.Me(
        identifier=account.identifier,
        name=account.name,
        roles=roles,
        site=schemas.SiteInfo(
            code=site.code,
            name=site.name,
            currency=site.currency,
            locale=site.locale,
            time_zone=site.time_zone,
        ),
        balance=schemas.Money(
            amount_cents=await balance_cents(session, account.id), currency=site.currency
        ),
    )
