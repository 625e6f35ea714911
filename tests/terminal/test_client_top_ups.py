"""The client's top-up methods against the real service, paying on the sandbox's page."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from kiosk.api.client import KioskClient
from kiosk.api.errors import ProblemError
from kiosk_server.models import Site
from tests.conftest import BASE_URL
from tests.factories import EnrolledDevice, Factory
from tests.server.top_up_support import SANDBOX_SETTINGS, webhooks_fixture

PIN = "415926"

webhooks = webhooks_fixture()


@pytest.fixture
async def site(factory: Factory) -> Site:
    return await factory.site("CANTINE", settings=SANDBOX_SETTINGS)


@pytest.fixture
async def client(
    service_app: FastAPI, api: httpx.AsyncClient, factory: Factory, site: Site
) -> AsyncIterator[KioskClient]:
    terminal: EnrolledDevice = await factory.device([site], name="Borne hall")
    account = await factory.account(site, "1001", pin=PIN)
    await factory.ledger_entry(account, 1000)
    transport = httpx.ASGITransport(app=service_app, raise_app_exceptions=False)
    async with KioskClient(BASE_URL, terminal.key, transport=transport) as kiosk:
        await kiosk.sign_in("CANTINE", "1001", PIN)
        yield kiosk


async def test_start_pay_and_follow_a_top_up(
    client: KioskClient, api: httpx.AsyncClient, webhooks: object
) -> None:
    options = await client.top_up_options()
    assert options.available and options.sandbox
    assert [m.amount_cents for m in options.presets] == [1000, 2000, 5000]
    assert (options.min.amount_cents, options.max.amount_cents) == (500, 20000)

    key = str(uuid.uuid4())
    top_up = await client.start_top_up(2000, key)
    assert top_up.state == "pending"
    assert await client.start_top_up(2000, key) == top_up  # a retry: the same top-up
    assert [t.id for t in (await client.top_ups(state="pending")).items] == [top_up.id]

    paid = await api.post(urlsplit(top_up.checkout_url).path + "/pay")
    assert paid.status_code == 303
    done = await client.top_up(top_up.id)
    assert done.state == "succeeded"
    assert done.balance_after is not None and done.balance_after.amount_cents == 3000
    assert (await client.me()).balance.amount_cents == 3000
    page = await client.top_ups()
    assert [(t.id, t.state) for t in page.items] == [(top_up.id, "succeeded")]
    assert page.next_cursor is None


async def test_cancel_and_refusals_are_typed(client: KioskClient, webhooks: object) -> None:
    top_up = await client.start_top_up(1000, str(uuid.uuid4()))
    cancelled = await client.cancel_top_up(top_up.id, str(uuid.uuid4()))
    assert cancelled.state == "cancelled"
    with pytest.raises(ProblemError) as refused:
        await client.start_top_up(100, str(uuid.uuid4()))
    assert refused.value.code == "top-up-out-of-range"
    with pytest.raises(ProblemError) as unknown:
        await client.top_up(top_up.id + 1000)
    assert unknown.value.code == "top-up-unknown"
