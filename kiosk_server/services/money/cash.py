"""Cash handed to a reception desk, credited to a person of the staff member's site."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.i18n import texts
from kiosk_server.models import Account, Device, Site
from kiosk_server.problems import ProblemError
from kiosk_server.schemas_money import TopUpReceipt
from kiosk_server.services.auth import SignedInPerson, site_settings
from kiosk_server.services.money import ledger
from kiosk_server.services.money.amounts import money


def _format_cents(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def cash_top_up_label(site: Site) -> str:
    """The receipt line of a cash top-up, in the site's language."""
    return texts(site.locale).gettext("Cash top-up")


async def cash_top_up(
    session: AsyncSession,
    *,
    device: Device,
    staff: SignedInPerson,
    identifier: str,
    amount_cents: int,
    now: dt.datetime,
) -> TopUpReceipt:
    """Credit `amount_cents` handed in cash to the account `identifier` of the staff member's
    site (the staff member needs the `reception` role), within the site's top-up range."""
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
    posted = await ledger.post(
        session,
        ledger.movement(
            site,
            account_id=account.id,
            kind="top_up",
            amount_cents=amount_cents,
            reason=f"cash at {device.name} by {staff.account.identifier}",
            place=device.name,
            lines=[ledger.Line(cash_top_up_label(site), 1, amount_cents, 0)],
            now=now,
            device_id=device.id,
        ),
    )
    return TopUpReceipt(
        ticket_id=posted.ticket_id,
        name=account.name,
        amount=money(amount_cents, site.currency),
        balance_after=money(posted.balance_after_cents, site.currency),
    )
