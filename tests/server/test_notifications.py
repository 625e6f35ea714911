"""Notifications: what `services.notifications.notify` stores and sends, and the person's list
over HTTP."""

from __future__ import annotations

import httpx
import pytest

from kiosk_server.clock import ManualClock
from kiosk_server.models import Account, Site
from kiosk_server.services import notifications
from tests.factories import Factory
from tests.server.conftest import assert_problem
from tests.server.orders_support import customer


async def notify(
    factory: Factory, account: Account, title: str, *, email: bool = False, kind: str = "test"
) -> int:
    async with factory.session_factory() as session, session.begin():
        mine = await session.get(Account, account.id)
        assert mine is not None
        note = await notifications.notify(
            session,
            account=mine,
            kind=kind,
            title=title,
            body=f"Corps de {title}",
            now=factory.clock.now(),
            email=email,
        )
        return note.id


async def test_unread_first_then_newest_first_and_marking_read(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    account, headers = await customer(kiosk, factory, site)
    ids = []
    for title in ("un", "deux", "trois"):
        ids.append(await notify(factory, account, title))
        clock.advance(minutes=1)
    read = await kiosk.post(f"/v1/me/notifications/{ids[2]}/read", headers=headers)
    assert read.status_code == 200, read.text
    assert read.json()["read"] is True
    again = await kiosk.post(f"/v1/me/notifications/{ids[2]}/read", headers=headers)
    assert again.status_code == 200
    listed = (await kiosk.get("/v1/me/notifications", headers=headers)).json()
    assert listed["unread_count"] == 2
    assert [(n["title"], n["read"]) for n in listed["items"]] == [
        ("deux", False),
        ("un", False),
        ("trois", True),
    ]
    assert listed["items"][0]["body"] == "Corps de deux"
    limited = (await kiosk.get("/v1/me/notifications?limit=1", headers=headers)).json()
    assert [n["title"] for n in limited["items"]] == ["deux"]
    assert limited["unread_count"] == 2


async def test_another_persons_notification_is_unknown(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    jeanne, _ = await customer(kiosk, factory, site, "1001")
    _, paul = await customer(kiosk, factory, site, "1002", name="Paul", email="paul@example.com")
    note = await notify(factory, jeanne, "privé")
    refused = await kiosk.post(f"/v1/me/notifications/{note}/read", headers=paul)
    assert_problem(refused, 404, "notification-unknown")
    assert (await kiosk.get("/v1/me/notifications", headers=paul)).json()["items"] == []


@pytest.mark.parametrize(
    ("email", "phone", "channel", "recipient"),
    [
        ("jeanne@example.com", "+33600000001", "email", "jeanne@example.com"),
        (None, "+33600000001", "sms", "+33600000001"),
        (None, None, None, None),
    ],
)
async def test_notify_with_email_goes_through_the_outbox_to_the_best_contact(
    kiosk: httpx.AsyncClient,
    factory: Factory,
    site: Site,
    email: str | None,
    phone: str | None,
    channel: str | None,
    recipient: str | None,
) -> None:
    account, headers = await customer(kiosk, factory, site, email=email, phone=phone)
    await notify(factory, account, "Votre visiteur est arrivé", email=True, kind="visitor_arrived")
    await notify(factory, account, "Seulement ici")
    messages = await factory.outbox()
    assert [(m.channel, m.recipient) for m in messages] == (
        [(channel, recipient)] if channel else []
    )
    if messages:
        assert "Votre visiteur est arrivé" in messages[0].subject + messages[0].body
        assert "Seulement ici" not in messages[0].body
    listed = (await kiosk.get("/v1/me/notifications", headers=headers)).json()
    assert [n["kind"] for n in listed["items"]] == ["test", "visitor_arrived"]
