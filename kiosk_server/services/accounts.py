"""What a signed-in person sees of their account."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server import schemas
from kiosk_server.models import Account, Site
from kiosk_server.preferences import LOW_BALANCE_MAX_CENTS, NOTIFY_EVENTS, Channels, preferences_of
from kiosk_server.security import mask_email, mask_phone
from kiosk_server.site_settings import SiteSettings


async def balance_cents(session: AsyncSession, account_id: int) -> int:
    """The account's running balance, which `services.money.ledger.post` keeps equal to the sum
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
        language=preferences_of(account.preferences).language,
    )


def settings_of(account: Account, site: Site) -> schemas.SettingsOut:
    """The person's settings as the terminal shows them (defaults filled in)."""
    preferences = preferences_of(account.preferences)
    threshold = preferences.low_balance_cents
    return schemas.SettingsOut(
        language=preferences.language,
        low_balance=(
            schemas.Money(amount_cents=threshold, currency=site.currency)
            if threshold is not None
            else None
        ),
        low_balance_max=schemas.Money(amount_cents=LOW_BALANCE_MAX_CENTS, currency=site.currency),
        notify={event: preferences.channels(event) or Channels() for event in NOTIFY_EVENTS},
        has_email=bool(account.email),
        has_phone=bool(account.phone),
    )


async def change_settings(
    session: AsyncSession, *, account: Account, site: Site, patch: schemas.SettingsPatch
) -> schemas.SettingsOut:
    """Apply what the patch gives (flushed, not committed)."""
    preferences = preferences_of(account.preferences)
    given = patch.model_fields_set
    if "language" in given:
        preferences.language = patch.language
    if "low_balance_cents" in given:
        preferences.low_balance_cents = patch.low_balance_cents
    if patch.notify is not None:
        preferences.notify = {**preferences.notify, **patch.notify}
    # A new dict: the JSON column sees the change.
    account.preferences = preferences.model_dump(mode="json", exclude_defaults=True)
    await session.flush()
    return settings_of(account, site)


def profile_of(account: Account) -> schemas.Profile:
    """The person as the kiosk shows them, contacts masked."""
    return schemas.Profile(
        name=account.name,
        identifier=account.identifier,
        email=mask_email(account.email) if account.email else None,
        phone=mask_phone(account.phone) if account.phone else None,
    )
