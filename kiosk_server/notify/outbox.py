"""The outbox: every message to a person is a row first, delivered later.

Requests only enqueue (inside their own transaction, so a message exists exactly when what it
announces was committed). `deliver_pending` then sends what it can: email through the site's
SMTP relay, SMS through the gateway. A delivered message is deleted; one that failed keeps its
row, with the attempt counted and a short error, and is retried later with a growing delay. A
site without a relay keeps its emails: that is the embedded demo's mailbox, which
`kiosk-server outbox` prints.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kiosk_server.clock import Clock
from kiosk_server.models import Account, OutboxMessage, Site
from kiosk_server.notify.email import send_email
from kiosk_server.notify.sms import SmsGateway
from kiosk_server.site_settings import SiteSettings

log = logging.getLogger(__name__)

Channel = Literal["email", "sms"]

MAX_ATTEMPTS = 10
"""After this many failed attempts a message is no longer retried (it stays readable)."""
RETRY_BASE = dt.timedelta(seconds=30)
"""Attempt n+1 is due `RETRY_BASE * (2**n - 1)` after the message was created."""
BATCH_SIZE = 100


async def enqueue_message(
    session: AsyncSession,
    *,
    site: Site,
    account: Account | None,
    channel: Channel,
    recipient: str,
    subject: str,
    body: str,
    now: dt.datetime,
    attachments: dict[str, str] | None = None,
) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction (flushed, not committed).

    `attachments` maps a file name to its base64 content (email only)."""
    message = OutboxMessage(
        site_id=site.id,
        account_id=account.id if account is not None else None,
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        attachments=dict(attachments or {}),
        created_at=now,
        attempts=0,
    )
    session.add(message)
    await session.flush()
    return message


def _aware(when: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _is_due(message: OutboxMessage, now: dt.datetime) -> bool:
    delay = RETRY_BASE * ((1 << message.attempts) - 1)
    return _aware(message.created_at) + delay <= now


def _describe_failure(exc: BaseException) -> str:
    """A short, secret-free account of why a delivery failed. Server replies and exception
    texts can echo addresses or message content, so only the kind of failure is kept."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"smtp: {type(exc).__name__} (reply {exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "smtp: recipient refused"
    if isinstance(exc, smtplib.SMTPException):
        return f"smtp: {type(exc).__name__}"
    if isinstance(exc, TimeoutError):
        return "relay timed out"
    if isinstance(exc, OSError):
        return f"relay unreachable ({type(exc).__name__}, errno {exc.errno})"
    return f"delivery failed ({type(exc).__name__})"


async def _claim(
    session_factory: async_sessionmaker[AsyncSession], message_id: int, attempts: int
) -> bool:
    """Count the attempt before making it. Only the one worker whose update matches the attempt
    count it read sends the message, so several service workers never send one twice."""
    async with session_factory() as session, session.begin():
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.attempts == attempts)
            .values(attempts=attempts + 1)
        )
        return bool(getattr(result, "rowcount", 0) == 1)


async def deliver_pending(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    clock: Clock,
    sms_gateway: SmsGateway,
) -> int:
    """Try to deliver every message that is due; return how many were delivered (and purged)."""
    now = clock.now()
    async with session_factory() as session:
        rows = (
            await session.execute(
                select(OutboxMessage, Site.settings)
                .join(Site, Site.id == OutboxMessage.site_id)
                .where(OutboxMessage.attempts < MAX_ATTEMPTS)
                .order_by(OutboxMessage.id)
                .limit(BATCH_SIZE)
            )
        ).all()
        pending = [(message, raw_settings) for message, raw_settings in rows]
        session.expunge_all()

    delivered = 0
    for message, raw_settings in pending:
        if not _is_due(message, now):
            continue
        relay = None
        if message.channel == "email":
            relay = SiteSettings.model_validate(raw_settings or {}).smtp
            if relay is None:
                continue  # No relay: the message stays in the outbox to be read there.
        if not await _claim(session_factory, message.id, message.attempts):
            continue
        error: str | None = None
        try:
            if relay is not None:
                await send_email(
                    relay,
                    recipient=message.recipient,
                    subject=message.subject,
                    body=message.body,
                    attachments=message.attachments,
                )
            elif not await sms_gateway.send(message.recipient, message.body):
                error = "sms: not accepted by the gateway"
        except Exception as exc:  # noqa: BLE001
            # Any failure (relay, gateway, a bad attachment) leaves the message for a retry.
            error = _describe_failure(exc)
        async with session_factory() as session, session.begin():
            if error is None:
                await session.execute(delete(OutboxMessage).where(OutboxMessage.id == message.id))
                delivered += 1
            else:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == message.id)
                    .values(last_error=error[:500])
                )
                log.warning("outbox message %s not delivered: %s", message.id, error)
    return delivered


async def latest_messages(
    session: AsyncSession, *, site_code: str | None, limit: int
) -> list[OutboxMessage]:
    """The newest messages still in the outbox, newest first, for one site or all."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if site_code is not None:
        query = query.join(Site, Site.id == OutboxMessage.site_id).where(
            Site.code == site_code.strip().upper()
        )
    return list((await session.scalars(query.limit(limit))).all())
