"""The top-up screen on the real service with the sandbox provider: a preset paid on the
checkout page, amounts typed badly, and a gateway failing mid-request (retried with the same
key, credited once)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from textual.pilot import Pilot

from kiosk.api.client import KioskClient
from kiosk.app import KioskApp, create_app
from kiosk.screens.confirm_money import ConfirmMoneyScreen
from kiosk.screens.home import HomeScreen
from kiosk.screens.top_up import TopUpScreen
from kiosk.settings import KioskSettings
from kiosk.widgets.qr_view import QrView
from kiosk_server.models import Account, LedgerEntry, SandboxPayment, Site
from tests.conftest import BASE_URL
from tests.factories import EnrolledDevice, Factory
from tests.server.top_up_support import (
    WebhookOutbox,
    press,
    sandbox_site_fixture,
    webhooks_fixture,
)
from tests.terminal.conftest import (
    CALM_IDLE,
    PIN,
    SIZE,
    KioskFactory,
    screen_text,
    settle,
    wait_until,
)
from tests.terminal.test_tickets_screen import sign_in

site = sandbox_site_fixture()
webhooks = webhooks_fixture()


@pytest.fixture(autouse=True)
def _fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    # The screen asks every 2 s and retries after 1, 2, 4 s; the tests need not wait that long.
    monkeypatch.setattr("kiosk.screens.top_up.POLL_SECONDS", 0.05)
    monkeypatch.setattr("kiosk.api.retry.RETRY_DELAYS", (0.01, 0.01, 0.01))


async def top_up_entries(factory: Factory, account: Account) -> list[int]:
    async with factory.session_factory() as session:
        rows = await session.scalars(
            select(LedgerEntry.amount_cents).where(
                LedgerEntry.account_id == account.id, LedgerEntry.kind == "top_up"
            )
        )
        return list(rows.all())


async def payment_count(factory: Factory) -> int:
    async with factory.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(SandboxPayment)) or 0)


async def open_top_up(pilot: Pilot[Any]) -> TopUpScreen:
    await sign_in(pilot)
    await pilot.click("#top-up")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TopUpScreen)
    return screen


async def pay_on_phone(api: httpx.AsyncClient, screen: TopUpScreen) -> None:
    """What the person does on their phone: open the QR's link and press Pay."""
    assert screen.top_up is not None
    await press(api, {"checkout_url": screen.top_up.checkout_url}, "pay")


async def test_preset_paid_through_the_sandbox(
    make_kiosk: KioskFactory,
    factory: Factory,
    site: Site,
    webhooks: WebhookOutbox,
    api: httpx.AsyncClient,
) -> None:
    jeanne = await factory.account(site, "jeanne", pin=PIN)
    await factory.ledger_entry(jeanne, 1000)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_top_up(pilot)
        text = screen_text(app)
        assert "20,00\xa0€" in text and "de 5,00\xa0€ à 200,00\xa0€" in text
        await pilot.click("#preset-1")
        await settle(pilot)
        # The amount is shown before anything is sent.
        assert isinstance(app.screen, ConfirmMoneyScreen)
        assert "20,00\xa0€" in screen_text(app)
        assert "Solde après paiement : 30,00\xa0€" in screen_text(app)
        assert await payment_count(factory) == 0
        await pilot.click("#confirm")
        await wait_until(pilot, lambda: bool(screen.query("#top-up-qr")))
        assert screen.top_up is not None
        url = screen.top_up.checkout_url
        assert url.startswith(f"{BASE_URL}/sandbox/checkout/")
        assert screen.query_one("#top-up-qr", QrView).payload == url
        text = screen_text(app)
        assert url in text
        assert "Scannez avec votre téléphone pour payer" in text
        await pay_on_phone(api, screen)
        await wait_until(pilot, lambda: screen.phase == "done")
        await settle(pilot)
        text = screen_text(app)
        assert "Paiement reçu : votre compte est crédité." in text
        assert "Votre solde : 30,00\xa0€" in text
        await pilot.click("#back")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert "30,00\xa0€" in screen_text(app)
    assert await top_up_entries(factory, jeanne) == [1000, 2000]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "Ce n'est pas un montant. Saisissez-le comme 12,50."),
        ("12,345", "Un montant a au plus deux décimales."),
        ("4,99", "Un rechargement va de 5,00\xa0€ à 200,00\xa0€."),
        ("200.01", "Un rechargement va de 5,00\xa0€ à 200,00\xa0€."),
    ],
)
async def test_amounts_typed_badly_send_nothing(
    make_kiosk: KioskFactory, factory: Factory, site: Site, typed: str, message: str
) -> None:
    await factory.account(site, "jeanne", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await open_top_up(pilot)
        await pilot.click("#amount")
        await pilot.press(*typed, "enter")
        await settle(pilot)
        assert isinstance(app.screen, TopUpScreen)
        assert message in screen_text(app)
    assert await payment_count(factory) == 0


async def test_typed_amount_with_either_separator(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "jeanne", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await open_top_up(pilot)
        for typed in ("12,50", "12.50"):
            await pilot.click("#amount")
            await pilot.press(*typed, "enter")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmMoneyScreen)
            assert "12,50\xa0€" in screen_text(app)
            await pilot.press("escape")
            await settle(pilot)
            app.screen.query_one("#amount").value = ""  # type: ignore[attr-defined]
    assert await payment_count(factory) == 0


class LostAnswers(httpx.AsyncBaseTransport):
    """The network between the terminal and the service: the first `lose` requests to `path`
    reach the service (which does the work), but their answers are lost and a gateway answers
    504 instead, as a proxy that timed out would."""

    def __init__(self, app: FastAPI, path: str, lose: int) -> None:
        self.inner = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self.path = path
        self.lose = lose
        self.keys: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path == self.path:
            self.keys.append(request.headers["Idempotency-Key"])
            if self.lose > 0:
                self.lose -= 1
                await response.aread()
                return httpx.Response(504, text="gateway timeout")
        return response


async def test_gateway_failing_mid_payment_is_retried_with_the_same_key(
    service_app: FastAPI,
    terminal: EnrolledDevice,
    factory: Factory,
    site: Site,
    webhooks: WebhookOutbox,
    api: httpx.AsyncClient,
) -> None:
    jeanne = await factory.account(site, "jeanne", pin=PIN)
    network = LostAnswers(service_app, "/v1/me/top-ups", lose=2)

    def client() -> KioskClient:
        return KioskClient(BASE_URL, terminal.key, timeout=5.0, transport=network)

    settings = KioskSettings(
        server_url=BASE_URL, device_key=terminal.key, language="fr", idle=CALM_IDLE
    )
    app: KioskApp = create_app(settings, client_factory=client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_top_up(pilot)
        await pilot.click("#preset-2")
        await settle(pilot)
        await pilot.click("#confirm")
        await wait_until(pilot, lambda: bool(screen.query("#top-up-qr")))
        # Three attempts, one intent: the same key each time, and one payment.
        assert len(network.keys) == 3
        assert len(set(network.keys)) == 1
        assert await payment_count(factory) == 1
        await pay_on_phone(api, screen)
        await wait_until(pilot, lambda: screen.phase == "done")
        await settle(pilot)
        assert "Votre solde : 50,00\xa0€" in screen_text(app)
    assert await top_up_entries(factory, jeanne) == [5000]


async def test_unreachable_service_says_it_could_not_confirm(
    service_app: FastAPI,
    terminal: EnrolledDevice,
    factory: Factory,
    site: Site,
    webhooks: WebhookOutbox,
    api: httpx.AsyncClient,
) -> None:
    """Every attempt lost: no outcome is shown; "Try again" resends with the same key, and the
    payment started by the lost attempts is the one shown (never a second one)."""
    await factory.account(site, "jeanne", pin=PIN)
    network = LostAnswers(service_app, "/v1/me/top-ups", lose=4)

    def client() -> KioskClient:
        return KioskClient(BASE_URL, terminal.key, timeout=5.0, transport=network)

    settings = KioskSettings(
        server_url=BASE_URL, device_key=terminal.key, language="fr", idle=CALM_IDLE
    )
    app = create_app(settings, client_factory=client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_top_up(pilot)
        await pilot.click("#preset-0")
        await settle(pilot)
        await pilot.click("#confirm")
        await wait_until(pilot, lambda: bool(screen.query("#retry")))
        text = screen_text(app)
        assert "Nous n'avons pas pu confirmer la demande de paiement" in text
        assert "Paiement reçu" not in text
        await pilot.click("#retry")
        await wait_until(pilot, lambda: bool(screen.query("#top-up-qr")))
        assert len(set(network.keys)) == 1
        assert len(network.keys) == 5
        assert await payment_count(factory) == 1
