"""Notifications: what the service tells a person on their home screen.

`notify` is the one entry point for every feature (order ready, top-up credited, visitor
arrived...). It stores the in-app notification in the caller's transaction and, when asked,
also enqueues a message to the person through the outbox, for those who have left the kiosk:
email when the account has an address, SMS when it only has a phone. Both rows are committed
with what they announce, or not at all.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.i18n import texts
from kiosk_server.models import Account, Notification, Site
from kiosk_server.notify.outbox import enqueue_message
from kiosk_server.preferences import preferences_of
from kiosk_server.problems import ProblemError
from kiosk_server.services.money.amounts import shown

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def _channels(account: Account, kind: str, *, default: bool) -> tuple[bool, bool]:
    """(email, SMS) for this event: the person's choice for the events they choose from
    (`kiosk_server.preferences`), else `default` (security notices: always). What goes out by
    default goes by email, or by SMS to a person who has no email."""
    preferences = preferences_of(account.preferences)
    chosen = preferences.channels(kind)
    if kind in preferences.notify and chosen is not None:
        return chosen.email, chosen.sms
    out = chosen.email if chosen is not None else default
    return out and bool(account.email), out and not account.email


async def notify(
    session: AsyncSession,
    *,
    account: Account,
    kind: str,
    title: str,
    body: str,
    now: dt.datetime,
    email: bool = False,
    data: dict[str, str | int] | None = None,
) -> Notification:
    """Store a notification for the account (flushed in the caller's transaction, not
    committed). The same title and body also go to the person through the outbox as they chose
    for this kind of event (`kiosk_server.preferences`); a kind they do not choose goes out when
    `email` is true: to their email, or by SMS when they only have a phone (nothing when they
    have neither: the in-app notification is still stored). `data` holds the facts the words are
    made of, for a terminal to word them in its own language."""
    notification = Notification(
        site_id=account.site_id,
        account_id=account.id,
        kind=kind[:32],
        title=title[:200],
        body=body,
        data=dict(data or {}),
        created_at=now,
        read_at=None,
    )
    session.add(notification)
    send_email, send_sms = _channels(account, kind, default=email)
    if send_email or send_sms:
        site = await session.get(Site, account.site_id)
        if site is None:  # pragma: no cover - the foreign key forbids it
            raise ValueError("the account's site is gone")
        if send_email and account.email:
            await enqueue_message(
                session,
                site=site,
                account=account,
                channel="email",
                recipient=account.email,
                subject=title[:200],
                body=body,
                now=now,
            )
        if send_sms and account.phone:
            await enqueue_message(
                session,
                site=site,
                account=account,
                channel="sms",
                recipient=account.phone,
                subject="",
                body=f"{title}\n{body}" if body else title,
                now=now,
            )
    await session.flush()
    return notification


async def alert_low_balance(
    session: AsyncSession,
    *,
    account: Account,
    site: Site,
    before_cents: int,
    now: dt.datetime,
) -> None:
    """After a payment: when it took the balance from at or above the person's low-balance
    threshold to below it, tell them (once per crossing, not at every payment below)."""
    threshold = preferences_of(account.preferences).low_balance_cents
    after = account.balance_cents
    if threshold is None or not after < threshold <= before_cents:
        return
    tr = texts(site.locale)
    await notify(
        session,
        account=account,
        kind="low_balance",
        title=tr.gettext("Low balance"),
        body=tr.gettext("Your balance is %(amount)s. Remember to top up.")
        % {"amount": shown(after, site)},
        now=now,
        data={"amount_cents": after, "currency": site.currency},
    )


async def list_notifications(
    session: AsyncSession, *, account: Account, limit: int = DEFAULT_LIMIT
) -> list[Notification]:
    """The account's notifications: unread first, then newest first, at most `limit`."""
    limit = max(1, min(limit, MAX_LIMIT))
    unread_first = case((Notification.read_at.is_(None), 0), else_=1)
    rows = await session.scalars(
        select(Notification)
        .where(Notification.account_id == account.id)
        .order_by(unread_first, Notification.id.desc())
        .limit(limit)
    )
    return list(rows.all())


async def count_unread(session: AsyncSession, *, account: Account) -> int:
    """How many of the account's notifications are unread."""
    total = await session.scalar(
        select(func.count(Notification.id)).where(
            Notification.account_id == account.id, Notification.read_at.is_(None)
        )
    )
    return int(total or 0)


async def mark_read(
    session: AsyncSession, *, account: Account, notification_id: int, now: dt.datetime
) -> Notification:
    """Mark one of the account's notifications read (again: no change). Another person's is
    `notification-unknown`."""
    notification = await session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.account_id == account.id
        )
    )
    if notification is None:
        raise ProblemError("notification-unknown", "No such notification.")
    if notification.read_at is None:
        notification.read_at = now
        await session.flush()
    return notification


async def mark_all_read(session: AsyncSession, *, account: Account, now: dt.datetime) -> int:
    """Mark every unread notification of the account read; how many were."""
    moved = await session.execute(
        update(Notification)
        .where(Notification.account_id == account.id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(moved, "rowcount", 0) or 0)


__all__ = [
    "alert_low_balance",
    "count_unread",
    "list_notifications",
    "mark_all_read",
    "mark_read",
    "notify",
]
