"""Cash handed to a reception desk, credited to a person of the staff member's site, and the
day's cash per reception person for counting the till."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.db import as_utc
from kiosk_server.i18n import texts
from kiosk_server.models import Account, AuditLogEntry, Device, Site
from kiosk_server.problems import ProblemError
from kiosk_server.schemas_money import (
    AccountMatch,
    AccountMatches,
    CashClerkTotal,
    CashDay,
    TopUpReceipt,
)
from kiosk_server.services import audit
from kiosk_server.services.auth import SignedInPerson, site_settings
from kiosk_server.services.money import ledger
from kiosk_server.services.money.amounts import money
from kiosk_server.services.visits import fold_text

AUDIT_ACTION = "account.cash_top_up"
"""The audit row of each cash top-up: the clerk (`actor_account_id`), the desk
(`actor_device_id`), the account credited (`subject`), the amount and ticket (`detail`)."""


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
    site (the staff member needs the `reception` role), within the site's top-up range, and
    write it to the audit log with the clerk and the desk, in the same transaction."""
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
    await audit.record(
        session,
        site_id=site.id,
        action=AUDIT_ACTION,
        subject=f"account:{account.id}",
        now=now,
        actor_account_id=staff.account.id,
        actor_device_id=device.id,
        detail={"amount_cents": amount_cents, "ticket_id": posted.ticket_id},
    )
    return TopUpReceipt(
        ticket_id=posted.ticket_id,
        name=account.name,
        amount=money(amount_cents, site.currency),
        balance_after=money(posted.balance_after_cents, site.currency),
    )


async def cash_day(session: AsyncSession, *, staff: SignedInPerson, now: dt.datetime) -> CashDay:
    """The cash top-ups recorded at the staff member's site since the start of the site's day,
    per reception person (read from the audit log, written with each top-up), largest first."""
    if "reception" not in staff.account.roles:
        raise ProblemError("role-forbidden", "Only reception staff count the cash.")
    site = staff.site
    zone = ZoneInfo(site.time_zone)
    day = as_utc(now).astimezone(zone).date()
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
    rows = (
        await session.execute(
            select(
                AuditLogEntry.actor_account_id,
                AuditLogEntry.detail,
                Account.identifier,
                Account.name,
            )
            .outerjoin(Account, Account.id == AuditLogEntry.actor_account_id)
            .where(
                AuditLogEntry.site_id == site.id,
                AuditLogEntry.action == AUDIT_ACTION,
                AuditLogEntry.at >= start,
            )
        )
    ).all()
    totals: dict[int | None, tuple[str, str, int, int]] = {}
    for actor, detail, identifier, name in rows:
        _, _, count, cents = totals.get(actor, ("", "", 0, 0))
        totals[actor] = (
            identifier or "",
            name or "",
            count + 1,
            cents + int(detail["amount_cents"]),
        )
    clerks = sorted(
        (
            CashClerkTotal(
                identifier=identifier,
                name=name,
                count=count,
                total=money(cents, site.currency),
            )
            for identifier, name, count, cents in totals.values()
        ),
        key=lambda clerk: (-clerk.total.amount_cents, clerk.name),
    )
    return CashDay(
        day=day,
        clerks=clerks,
        count=sum(clerk.count for clerk in clerks),
        total=money(sum(clerk.total.amount_cents for clerk in clerks), site.currency),
    )


MIN_ACCOUNT_QUERY = 2
"""Characters reception types before accounts are offered."""
MAX_ACCOUNT_MATCHES = 8


async def find_accounts(
    session: AsyncSession, *, staff: SignedInPerson, query: str
) -> AccountMatches:
    """The staff member's site's people whose identifier begins with what reception typed, or
    whose name has words beginning with each typed word (case, accents and spaces folded: `ma
    dup` finds Marie Dupont): the exact identifier, then identifiers in order, then names in
    order. Reception only."""
    if "reception" not in staff.account.roles:
        raise ProblemError("role-forbidden", "Only reception staff search the site's accounts.")
    folded = fold_text(query)
    words = folded.replace("-", " ").split()
    if len(folded.replace(" ", "")) < MIN_ACCOUNT_QUERY:
        return AccountMatches(accounts=[], more=False)
    rows = (
        await session.execute(
            select(Account.identifier, Account.name, Account.status).where(
                Account.site_id == staff.site.id
            )
        )
    ).all()

    def rank(identifier: str, name: str) -> int | None:
        wanted = folded.replace(" ", "")
        if fold_text(identifier) == wanted:
            return 0
        if fold_text(identifier).startswith(wanted):
            return 1
        parts = fold_text(name).replace("-", " ").split()
        if all(any(part.startswith(word) for part in parts) for word in words):
            return 2
        return None

    found = sorted(
        (
            (order, identifier if order < 2 else fold_text(name), identifier, name, status)
            for identifier, name, status in rows
            if (order := rank(identifier, name)) is not None
        ),
    )
    return AccountMatches(
        accounts=[
            AccountMatch(identifier=identifier, name=name, status=status)
            for _, _, identifier, name, status in found[:MAX_ACCOUNT_MATCHES]
        ],
        more=len(found) > MAX_ACCOUNT_MATCHES,
    )
