"""The sandbox's checkout page through HTTP, as a phone's browser uses it."""

from __future__ import annotations

import datetime as dt
import re
from html import escape
from zoneinfo import ZoneInfo

import httpx
import pytest

from kiosk_server.clock import ManualClock
from kiosk_server.models import Site
from tests.factories import Factory
from tests.server.top_up_support import (
    SANDBOX_SETTINGS,
    WebhookOutbox,
    balance,
    jeanne_fixture,
    page_path,
    person_fixture,
    press,
    started,
    top_up_state,
    webhooks_fixture,
)

webhooks = webhooks_fixture()
jeanne = jeanne_fixture()
person = person_fixture()


@pytest.fixture(name="site")
async def site_with_markup_in_its_name(factory: Factory) -> Site:
    return await factory.site(
        "CANTINE", name="Cantine <b>Lumière</b> & Co", settings=SANDBOX_SETTINGS
    )


async def test_the_page_shows_the_amount_and_the_merchant_escaped(
    api: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
) -> None:
    top_up = await started(kiosk, person, 1250)
    page = await api.get(page_path(top_up))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "12,50\xa0€" in page.text
    assert "Cantine &lt;b&gt;Lumière&lt;/b&gt; &amp; Co" in page.text
    assert "<b>" not in page.text
    assert "<script" not in page.text
    forms = re.findall(r'<form method="post" action="([^"]+)">', page.text)
    assert [f.rsplit("/", 1)[1] for f in forms] == ["pay", "decline"]
    assert "Payer" in page.text and "Refuser" in page.text


async def test_reloads_and_double_clicks_change_nothing(
    api: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
) -> None:
    top_up = await started(kiosk, person, 1000)
    for _ in range(3):
        assert (await api.get(page_path(top_up))).status_code == 200
    assert webhooks.sent == []
    assert (await top_up_state(kiosk, person, top_up["id"]))["state"] == "pending"

    await press(api, top_up, "pay")
    await press(api, top_up, "pay")
    await press(api, top_up, "decline")
    assert len(webhooks.sent) == 1
    page = await api.get(page_path(top_up))
    assert "Paiement accepté" in page.text
    assert "<form" not in page.text
    assert await balance(kiosk, person) == 2000


async def test_declining_fails_the_top_up(
    api: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
) -> None:
    top_up = await started(kiosk, person, 1000)
    await press(api, top_up, "decline")
    assert [a.json() for a in webhooks.answers] == [{"outcome": "applied"}]
    assert (await top_up_state(kiosk, person, top_up["id"]))["state"] == "failed"
    assert "Paiement refusé" in (await api.get(page_path(top_up))).text
    await press(api, top_up, "pay")
    assert await balance(kiosk, person) == 1000


async def test_an_expired_link_shows_it_and_takes_no_payment(
    api: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
    clock: ManualClock,
) -> None:
    top_up = await started(kiosk, person, 1000)
    clock.advance(minutes=16)
    page = await api.get(page_path(top_up))
    assert "expiré" in page.text and "<form" not in page.text
    await press(api, top_up, "pay")
    assert (await top_up_state(kiosk, person, top_up["id"]))["state"] == "expired"
    assert await balance(kiosk, person) == 1000


async def test_an_unknown_link_is_a_404_page(api: httpx.AsyncClient) -> None:
    page = await api.get("/sandbox/checkout/sbx_nothing")
    assert page.status_code == 404
    assert "inconnu" in page.text and "unknown" in page.text
    posted = await api.post("/sandbox/checkout/sbx_nothing/pay")
    assert posted.status_code == 404


async def test_the_page_says_until_when_in_the_sites_time(
    api: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
    clock: ManualClock,
) -> None:
    top_up = await started(kiosk, person, 1250)
    expires = dt.datetime.fromisoformat(top_up["expires_at"])
    paris = expires.astimezone(ZoneInfo("Europe/Paris"))
    assert paris.utcoffset() != dt.timedelta(0)  # the site's time differs from UTC then
    page = await api.get(page_path(top_up))
    assert escape(f"Valable jusqu'à {paris:%H:%M}.") in page.text
    assert "UTC" not in page.text
