"""Invitations sent on approval: delivered through a real SMTP server on loopback, their QR
(a PNG attachment) decoded back into a token that checks the visitor in, in the site's
language."""

from __future__ import annotations

from fastapi import FastAPI

from kiosk_server.clock import ManualClock
from kiosk_server.models import Site
from kiosk_server.notify.outbox import deliver_pending
from kiosk_server.notify.sms import OutboxSmsGateway
from tests.factories import Factory
from tests.server.smtp_support import (
    Mailbox,
    smtp_server_fixture,  # noqa: F401 - the `smtp_server` fixture
)
from tests.server.visits_support import (
    CODE_IN_MESSAGE,
    DAY,
    People,
    decode_qr_png,
    people_fixture,  # noqa: F401 - the `people` fixture
    set_local,
    set_site_settings,
    visitor,
)


async def test_invitation_email_through_smtp_checks_the_visitor_in(
    people: People,
    factory: Factory,
    site: Site,
    clock: ManualClock,
    service_app: FastAPI,
    smtp_server: tuple[Mailbox, int],
) -> None:
    mailbox, port = smtp_server
    await set_site_settings(
        factory, site, smtp={"host": "127.0.0.1", "port": port, "sender": "accueil@cantine.test"}
    )
    await people.approved(visitors=[visitor("Léa", "Dupont", email="lea@example.com")])
    delivered = await deliver_pending(
        service_app.state.session_factory, clock=clock, sms_gateway=OutboxSmsGateway()
    )
    # The visitor's invitation, and the host told of reception's approval.
    assert delivered == 2
    assert await factory.outbox("lea@example.com") == []
    to_host = [mail for mail in mailbox.received if mail[1] == ["helene@example.com"]]
    assert [mail[2]["Subject"] for mail in to_host] == ["Demande de visite approuvée"]

    ((sender, recipients, message),) = [m for m in mailbox.received if m not in to_host]
    assert sender == "accueil@cantine.test"
    assert recipients == ["lea@example.com"]
    assert message["Subject"] == "Votre invitation chez Cantine Lumière"
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    body = text.get_content()
    assert "Hélène Girard vous attend" in body
    assert "2 novembre 2026" in body
    assert "entre 14:00 et 15:00" in body
    assert "Bâtiment B, salle 2" in body
    code_match = CODE_IN_MESSAGE.search(body)
    assert code_match is not None
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "invitation.png"
    assert attachment.get_content_type() == "image/png"
    token = decode_qr_png(attachment.get_content())
    assert token.startswith("V1")

    set_local(clock, DAY, "14:02")
    checked = await people.kiosk.post(
        "/v1/visitor-desk/check-in", json={"token": token, "rules_accepted": True}
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["last_name"] == "Dupont"
    by_code = await people.kiosk.post(
        "/v1/visitor-desk/lookup", json={"code": code_match.group(1), "last_name": "Dupont"}
    )
    assert by_code.json()["action"] == "check_out"


async def test_english_site_writes_in_english(people: People, factory: Factory, site: Site) -> None:
    async with factory.session_factory() as session:
        mine = await session.get(Site, site.id)
        assert mine is not None
        mine.locale = "en_GB"
        await session.commit()
    await people.approved(
        visitors=[visitor("Amy", "Stone", email="amy@example.com")],
        last_day="2026-11-04",
    )
    (message,) = await factory.outbox("amy@example.com")
    assert message.subject == "Your invitation to Cantine Lumière"
    assert "Hélène Girard expects you" in message.body
    assert "from 2 November 2026 to 4 November 2026" in message.body
    assert CODE_IN_MESSAGE.search(message.body)
