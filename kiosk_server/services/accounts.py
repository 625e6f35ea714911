"""What a signed-in person sees of their account."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server import schemas
from kiosk_server.models import Account, Site
from kiosk_server.site_settings import SiteSettings


async def balance_cents(session: AsyncSession, account_id: int) -> int:
    """The account's running balance, which `services.ledger.post_entry` keeps equal to the sum
    of its ledger entries (0 without any)."""
    balance = await session.scalar(select(Account.balance_cents).where(Account.id == account_id))
    return int(balance or 0)


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
            overdraft_limit_cents=SiteSettings.model_validate(
                site.settings or {}
            ).overdraft_limit_cents,
        ),
        # The account was read in this request's transaction (signing in checks it): its
        # running balance is already here, no second query needed.
        balance=schemas.Money(amount_cents=account.balance_cents, currency=site.currency),
    )
