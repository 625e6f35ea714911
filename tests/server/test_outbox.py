"""The outbox: email delivered through a real SMTP server on loopback (aiosmtpd), SMS through a
gateway, failures kept for a later attempt, and the demo's mailbox left alone."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kiosk_server.admin.sites import create_site
from kiosk_server.clock import ManualClock
from kiosk_server.db import make_engine, make_session_factory
from kiosk_server.models import Account, OutboxMessage, Site
from kiosk_server.notify.outbox import deliver_pending, enqueue_message, latest_messages
from kiosk_server.notify.sms import OutboxSmsGateway
from kiosk_server.site_settings import SiteSettings, SmtpRelay
from tests.processes import free_port
from tests.server.smtp_support import (
    Mailbox,
    smtp_server_fixture,  # noqa: F401 - the `smtp_server` fixture
)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url)
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


class AcceptingGateway:
    """Stands for an SMS provider (outside the product): accepts every message."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, to: str, body: str) -> bool:
        self.sent.append((to, body))
        return True


START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


async def add_site(
    sessions: async_sessionmaker[AsyncSession], code: str, relay: SmtpRelay | None
) -> None:
    async with sessions() as session, session.begin():
        site = await create_site(
            session, code=code, name=code.title(), now=START, settings=SiteSettings(smtp=relay)
        )
        session.add(
            Account(
                site_id=site.id,
                identifier="1",
                name="Jane Doe",
                email="jane@example.com",
                phone="+33612345642",
                roles=[],
                status="pending",
                created_at=START,
            )
        )


async def enqueue(
    sessions: async_sessionmaker[AsyncSession],
    code: str,
    *,
    channel: str = "email",
    recipient: str = "jane@example.com",
    subject: str = "Votre code de vérification",
    body: str = "Votre code : 482913\nIl est valable 10 minutes.",
    attachments: dict[str, str] | None = None,
) -> int:
    async with sessions() as session, session.begin():
        site = await session.scalar(select(Site).where(Site.code == code))
        assert site is not None
        account = await session.scalar(select(Account).where(Account.site_id == site.id))
        message = await enqueue_message(
            session,
            site=site,
            account=account,
            channel=channel,  # type: ignore[arg-type]
            recipient=recipient,
            subject=subject,
            body=body,
            now=START,
            attachments=attachments,
        )
        return message.id


async def outbox(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_email_goes_through_the_sites_relay_and_is_purged(
    sessions: async_sessionmaker[AsyncSession], smtp_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp_server
    relay = SmtpRelay(host="127.0.0.1", port=port, sender="kiosk@acme.test")
    await add_site(sessions, "ACME", relay)
    png = base64.b64encode(b"\x89PNG\r\n\x1a\nnot really a picture").decode()
    await enqueue(sessions, "ACME", attachments={"invitation.png": png})

    delivered = await deliver_pending(
        sessions, clock=ManualClock(START), sms_gateway=OutboxSmsGateway()
    )

    assert delivered == 1
    assert await outbox(sessions) == []
    [(sender, recipients, message)] = mailbox.received
    assert sender == "kiosk@acme.test"
    assert recipients == ["jane@example.com"]
    assert message["To"] == "jane@example.com"
    assert message["Subject"] == "Votre code de vérification"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    # On the wire, lines end with CRLF.
    assert (
        body.get_content().replace("\r\n", "\n")
        == "Votre code : 482913\nIl est valable 10 minutes.\n"
    )
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "invitation.png"
    assert attachment.get_content_type() == "image/png"
    assert attachment.get_content() == b"\x89PNG\r\n\x1a\nnot really a picture"


async def test_an_unreachable_relay_keeps_the_message_and_counts_the_attempt(
    sessions: async_sessionmaker[AsyncSession], smtp_server: tuple[Mailbox, int]
) -> None:
    mailbox, live_port = smtp_server
    dead = SmtpRelay(host="127.0.0.1", port=free_port(), username="kiosk", password="pw-secret")
    await add_site(sessions, "DOWN", dead)
    await enqueue(sessions, "DOWN")
    clock = ManualClock(START)

    assert await deliver_pending(sessions, clock=clock, sms_gateway=OutboxSmsGateway()) == 0
    [kept] = await outbox(sessions)
    assert kept.attempts == 1
    assert kept.last_error is not None
    assert "unreachable" in kept.last_error
    for secret in ("482913", "pw-secret", "jane@example.com"):
        assert secret not in kept.last_error

    # Retried only once its delay has passed.
    assert await deliver_pending(sessions, clock=clock, sms_gateway=OutboxSmsGateway()) == 0
    assert (await outbox(sessions))[0].attempts == 1
    clock.advance(seconds=31)
    assert await deliver_pending(sessions, clock=clock, sms_gateway=OutboxSmsGateway()) == 0
    assert (await outbox(sessions))[0].attempts == 2

    # Once the relay is back, the kept message goes out.
    async with sessions() as session, session.begin():
        site = await session.scalar(select(Site).where(Site.code == "DOWN"))
        assert site is not None
        site.settings = {"smtp": {"host": "127.0.0.1", "port": live_port}}
    clock.advance(minutes=2)
    assert await deliver_pending(sessions, clock=clock, sms_gateway=OutboxSmsGateway()) == 1
    assert await outbox(sessions) == []
    assert [rcpt for _, rcpt, _ in mailbox.received] == [["jane@example.com"]]


async def test_a_refused_recipient_is_kept_without_the_servers_words(
    sessions: async_sessionmaker[AsyncSession], smtp_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp_server
    await add_site(sessions, "ACME", SmtpRelay(host="127.0.0.1", port=port))
    await enqueue(sessions, "ACME", recipient="gone@refused.test")

    assert (
        await deliver_pending(sessions, clock=ManualClock(START), sms_gateway=AcceptingGateway())
        == 0
    )
    [kept] = await outbox(sessions)
    assert kept.attempts == 1
    assert kept.last_error is not None
    assert kept.last_error.startswith("smtp:")
    assert "refused.test" not in kept.last_error
    assert mailbox.received == []


async def test_without_a_relay_email_stays_in_the_outbox_untouched(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_site(sessions, "DEMO", None)
    await enqueue(sessions, "DEMO")

    clock = ManualClock(START)
    assert await deliver_pending(sessions, clock=clock, sms_gateway=AcceptingGateway()) == 0
    [kept] = await outbox(sessions)
    assert (kept.attempts, kept.last_error) == (0, None)

    async with sessions() as session:
        [latest] = await latest_messages(session, site_code="demo", limit=5)
    assert latest.body.startswith("Votre code : 482913")


async def test_sms_goes_through_the_gateway_or_stays_for_reading(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_site(sessions, "ACME", None)
    await enqueue(sessions, "ACME", channel="sms", recipient="+33612345642", subject="",
                  body="Code 771204")  # fmt: skip
    clock = ManualClock(START)

    # The shipped adapter delivers nothing: the message stays, readable.
    assert await deliver_pending(sessions, clock=clock, sms_gateway=OutboxSmsGateway()) == 0
    [kept] = await outbox(sessions)
    assert kept.attempts == 1
    assert kept.last_error == "sms: not accepted by the gateway"

    gateway = AcceptingGateway()
    clock.advance(minutes=1)
    assert await deliver_pending(sessions, clock=clock, sms_gateway=gateway) == 1
    assert gateway.sent == [("+33612345642", "Code 771204")]
    assert await outbox(sessions) == []


async def test_latest_messages_are_scoped_to_a_site_and_limited(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_site(sessions, "ACME", None)
    await add_site(sessions, "BETA", None)
    first = await enqueue(sessions, "ACME", body="one")
    second = await enqueue(sessions, "ACME", body="two")
    await enqueue(sessions, "BETA", body="other site")

    async with sessions() as session:
        acme = await latest_messages(session, site_code="ACME", limit=10)
        limited = await latest_messages(session, site_code=None, limit=2)
    assert [m.id for m in acme] == [second, first]
    assert [m.body for m in limited] == ["other site", "two"]
