"""The credit of an online top-up that the provider reports paid: exactly once, whatever the
duplicates, the order of the webhooks and the races with a cancel or an expiry (the
top-up's life before it is `services.top_ups`'s)."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.i18n import texts
from kiosk_server.models import Account, Device, Site, TopUp
from kiosk_server.services.money import ledger
from kiosk_server.services.money.amounts import shown
from kiosk_server.services.notifications import notify

log = logging.getLogger(__name__)


def top_up_label(site: Site) -> str:
    """The ticket line of an online top-up, in the site's language."""
    return texts(site.locale).gettext("Top-up")


async def credit_top_up(session: AsyncSession, *, top_up_id: int, now: dt.datetime) -> bool:
    """Move the top-up to `succeeded` and credit its account (a `top_up` entry and ticket, and
    a notification), in the caller's transaction; False when it was credited already.

    The guard is the one thing that makes the credit happen once: on PostgreSQL a concurrent
    second update waits for the first one's row lock, then finds `succeeded` and matches
    nothing; on SQLite write transactions are serialised anyway."""
    previous = case((TopUp.state == "pending", None), else_=TopUp.state)
    credited = await session.scalar(
        update(TopUp)
        .where(TopUp.id == top_up_id, TopUp.state != "succeeded")
        .values(state="succeeded", completed_at=now, credited_after_state=previous)
        .returning(TopUp.id)
        .execution_options(synchronize_session=False)
    )
    if credited is None:
        return False
    top_up = await session.scalar(
        select(TopUp).where(TopUp.id == top_up_id).execution_options(populate_existing=True)
    )
    assert top_up is not None  # noqa: S101 - just updated
    account = await session.scalar(
        select(Account)
        .where(Account.id == top_up.account_id)
        .execution_options(populate_existing=True)
    )
    site = await session.get(Site, top_up.site_id)
    if account is None or site is None:  # pragma: no cover - foreign keys forbid it
        raise ValueError("the top-up's account or site is gone")
    device = await session.get(Device, top_up.device_id) if top_up.device_id else None
    if top_up.credited_after_state is not None:
        log.warning(
            "top-up %s credited after it was %s: the payment succeeded late",
            top_up.id,
            top_up.credited_after_state,
        )
    posted = await ledger.post(
        session,
        ledger.movement(
            site,
            account_id=account.id,
            kind="top_up",
            amount_cents=top_up.amount_cents,
            reason=f"online top-up {top_up.id} ({top_up.provider} {top_up.provider_ref})",
            place=device.name if device else texts(site.locale).gettext("Online"),
            lines=[ledger.Line(top_up_label(site), 1, top_up.amount_cents, 0)],
            now=now,
            device_id=top_up.device_id,
        ),
    )
    await session.execute(
        update(TopUp)
        .where(TopUp.id == top_up.id)
        .values(ledger_entry_id=posted.entry_id, ticket_id=posted.ticket_id)
        .execution_options(synchronize_session=False)
    )
    tr = texts(site.locale)
    await notify(
        session,
        account=account,
        kind="top_up_credited",
        data={"amount_cents": top_up.amount_cents, "currency": site.currency},
        title=tr.gettext("Top-up credited"),
        body=tr.gettext("%(amount)s was added to your balance.")
        % {"amount": shown(top_up.amount_cents, site)},
        now=now,
    )
    return True
