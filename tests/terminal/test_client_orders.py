"""The client's order, catalogue and notification calls against the real service, including a
payment whose first answer is lost on the way back: the retry carries the same key, and the
order is placed and paid once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from kiosk.api.client import KioskClient
from kiosk.api.errors import ProblemError
from kiosk_server.admin.catalogue import load_catalogue
from kiosk_server.clock import ManualClock
from kiosk_server.models import Site
from tests.conftest import BASE_URL, device_client
from tests.factories import EnrolledDevice, Factory
from tests.server.orders_support import CATALOGUE, at_paris

PIN = "415926"


class LosesFirstAnswer(httpx.AsyncBaseTransport):
    """The service, except that the answer to the first order is lost after the service
    handled it: the terminal sees a read timeout, as when a connection drops at the wrong moment."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.lost = 0
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        response = await self.inner.handle_async_request(request)
        if request.url.path == "/v1/me/orders" and request.method == "POST" and not self.lost:
            self.lost += 1
            await response.aread()
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


@pytest.fixture
async def signed_in(
    service_app: FastAPI, factory: Factory, site: Site, terminal: EnrolledDevice, clock: ManualClock
) -> AsyncIterator[tuple[KioskClient, LosesFirstAnswer]]:
    async with factory.session_factory() as session, session.begin():
        await load_catalogue(session, site_code=site.code, text=CATALOGUE)
    at_paris(clock, 10, 0)
    account = await factory.account(site, "1001", pin=PIN)
    await factory.ledger_entry(account, 3000)
    transport = LosesFirstAnswer(httpx.ASGITransport(app=service_app, raise_app_exceptions=False))
    async with KioskClient(BASE_URL, terminal.key, transport=transport, backoff_seconds=0) as c:
        await c.sign_in(site.code, "1001", PIN)
        yield c, transport


async def test_an_order_whose_answer_was_lost_is_paid_once(
    signed_in: tuple[KioskClient, LosesFirstAnswer],
) -> None:
    client, transport = signed_in
    catalogue = await client.catalogue()
    assert [item.code for item in catalogue.items] == ["PLAT", "CAFE", "PANIER"]
    assert catalogue.items[0].allergens == ["gluten", "milk", "celery"]
    assert catalogue.items[2].order_deadline is not None
    key = str(uuid.uuid4())
    receipt = await client.place_order([("PLAT", 1), ("CAFE", 2)], key)
    assert transport.lost == 1
    assert receipt.total.amount_cents == 850 + 240
    assert receipt.balance_after.amount_cents == 3000 - 1090
    again = await client.place_order([("PLAT", 1), ("CAFE", 2)], key)
    assert again.id == receipt.id
    assert (await client.me()).balance.amount_cents == 3000 - 1090
    page = await client.orders(state="active")
    assert [order.id for order in page.items] == [receipt.id]
    assert page.next_cursor is None
    assert (await client.orders(state="past")).items == []


async def test_cancel_refunds_and_a_refusal_says_why(
    signed_in: tuple[KioskClient, LosesFirstAnswer],
    service_app: FastAPI,
    factory: Factory,
    site: Site,
) -> None:
    client, _ = signed_in
    first = await client.place_order([("PANIER", 1)], str(uuid.uuid4()))
    second = await client.place_order([("CAFE", 1)], str(uuid.uuid4()))
    cancelled = await client.cancel_order(first.id, str(uuid.uuid4()))
    assert cancelled.state == "cancelled"
    assert cancelled.refund.amount_cents == 1150
    detail = await client.order(first.id)
    assert [step.state for step in detail.history] == ["created", "paid", "cancelled"]
    kitchen_device = await factory.device([site], role="kitchen", name="Cuisine")
    async with device_client(service_app, kitchen_device.key) as kitchen:
        for state in ("in_preparation", "ready"):
            moved = await kitchen.post(
                f"/v1/kitchen/orders/{second.id}/transitions", json={"to": state}
            )
            assert moved.status_code == 200, moved.text
    with pytest.raises(ProblemError) as refused:
        await client.cancel_order(second.id, str(uuid.uuid4()))
    assert refused.value.code == "order-not-cancellable"
    assert [e.message for e in refused.value.errors] == ["preparation_started"]
    notes = await client.notifications()
    assert notes.unread_count == 1
    assert notes.items[0].kind == "order_ready"
    assert notes.items[0].title == f"Votre commande n°{second.pickup_number} est prête"
    read = await client.mark_notification_read(notes.items[0].id)
    assert read.read is True
    assert (await client.notifications()).unread_count == 0
    assert (await client.me()).balance.amount_cents == 3000 - 120
