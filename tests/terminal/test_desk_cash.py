"""Cash at the reception desk on the terminal, against the real service: the clerk finds the
person as they type, enters the amount, confirms, and sees the new balance and the ticket; the
day's cash per clerk is there for the till count; a lost answer is retried with the same key and
credits once; a blocked account and an amount out of range are refused before anything is sent."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import OptionList

from kiosk.api.client import KioskClient
from kiosk.app import KioskApp, create_app
from kiosk.screens.confirm_money import ConfirmMoneyScreen
from kiosk.screens.desk_cash import DeskCashScreen, TillCountScreen
from kiosk.settings import KioskSettings
from kiosk_server.models import Account, Site
from tests.conftest import BASE_URL
from tests.factories import EnrolledDevice, Factory
from tests.terminal.conftest import (
    CALM_IDLE,
    PIN,
    SIZE,
    KioskFactory,
    screen_text,
    settle,
    type_text,
    wait_until,
)
from tests.terminal.visits_ui_support import sign_in

NBSP = "\xa0"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kiosk.api.retry.RETRY_DELAYS", (0.01, 0.01, 0.01))


@pytest.fixture
async def people(factory: Factory, site: Site) -> None:
    await factory.account(site, "R1", name="Rémi Accueil", pin=PIN, roles=["reception"])
    await factory.account(site, "1001", name="Marie Dupont", status="active")
    await factory.account(site, "2100", name="Marc Dupuis", status="blocked")


async def balance(factory: Factory, identifier: str) -> int:
    async with factory.session_factory() as session:
        cents = await session.scalar(
            select(Account.balance_cents).where(Account.identifier == identifier)
        )
    return int(cents or 0)


async def open_cash(pilot: Pilot[Any]) -> DeskCashScreen:
    await sign_in(pilot, "R1")
    await pilot.click("#reception")
    await settle(pilot)
    await pilot.click("#cash")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, DeskCashScreen)
    return screen


async def search(pilot: Pilot[Any], screen: DeskCashScreen, text: str) -> list[str]:
    """Type in the search box (after clearing it) and wait for the list."""
    box = screen.query_one("#cash-search")
    box.value = ""  # type: ignore[attr-defined]
    box.focus()
    await type_text(pilot, text)
    await wait_until(pilot, lambda: screen.searched == text)
    await settle(pilot)
    options = screen.query_one("#cash-matches", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_a_clerk_credits_cash_and_counts_the_till(
    make_kiosk: KioskFactory, factory: Factory, people: None
) -> None:
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cash(pilot)
        text = screen_text(app)
        assert f"de 5,00{NBSP}€ à 300,00{NBSP}€" in text
        assert "Espèces du jour : 0 rechargement" in text

        # Name words, accents and case folded; the blocked account is listed as such.
        assert await search(pilot, screen, "ma dup") == [
            "Marc Dupuis · 2100 — bloqué",
            "Marie Dupont · 1001",
        ]
        # One match: Enter picks it and moves to the amount.
        assert await search(pilot, screen, "1001") == ["Marie Dupont · 1001"]
        await pilot.press("enter")
        await settle(pilot)
        assert "Pour : Marie Dupont · 1001" in screen_text(app)
        await type_text(pilot, "20,50")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmMoneyScreen)
        assert f"20,50{NBSP}€" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)

        assert isinstance(app.screen, DeskCashScreen)
        text = screen_text(app)
        assert f"20,50{NBSP}€ crédités à Marie Dupont. Nouveau solde : 20,50{NBSP}€." in text
        assert f"Espèces du jour : 1 rechargement, 20,50{NBSP}€" in text
        assert await balance(factory, "1001") == 2050

        await pilot.click("#cash-count")
        await settle(pilot)
        assert isinstance(app.screen, TillCountScreen)
        text = screen_text(app)
        assert f"Rémi Accueil · R1 — 1 rechargement — 20,50{NBSP}€" in text
        assert f"En tout : 1 rechargement, 20,50{NBSP}€" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DeskCashScreen)


async def test_refused_before_anything_is_sent(
    make_kiosk: KioskFactory, factory: Factory, people: None
) -> None:
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cash(pilot)
        # No person picked yet.
        screen.query_one("#cash-amount").focus()
        await type_text(pilot, "20")
        await pilot.press("enter")
        await settle(pilot)
        assert "Choisissez d'abord la personne" in screen_text(app)
        # A blocked account cannot be picked.
        assert await search(pilot, screen, "2100") == ["Marc Dupuis · 2100 — bloqué"]
        await pilot.press("enter")
        await settle(pilot)
        assert "Ce compte est bloqué" in screen_text(app)
        assert screen.person is None
        # Over the site's limit: said with the range, nothing asked.
        await search(pilot, screen, "1001")
        await pilot.press("enter")
        await settle(pilot)
        amount = screen.query_one("#cash-amount")
        amount.value = ""  # type: ignore[attr-defined]
        await type_text(pilot, "500")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DeskCashScreen)
        assert f"de 5,00{NBSP}€ à 300,00{NBSP}€" in screen_text(app)
        assert await search(pilot, screen, "zz") == []
        assert "Personne ici ne correspond" in screen_text(app)
    assert await balance(factory, "1001") == 0


class LostAnswers(httpx.AsyncBaseTransport):
    """The first `lose` cash top-ups reach the service, but their answers are lost (a gateway
    answers 504)."""

    def __init__(self, app: FastAPI, lose: int) -> None:
        self.inner = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self.lose = lose
        self.keys: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path == "/v1/cash-top-ups":
            self.keys.append(request.headers["Idempotency-Key"])
            if self.lose > 0:
                self.lose -= 1
                await response.aread()
                return httpx.Response(504, text="gateway timeout")
        return response


@pytest.mark.parametrize("lose", [2, 4])
async def test_a_lost_answer_credits_once(
    service_app: FastAPI, terminal: EnrolledDevice, factory: Factory, people: None, lose: int
) -> None:
    """Two answers lost: the retries bring the receipt. Four: the screen says it could not
    confirm, and Try again sends the same key: one credit in both cases."""
    network = LostAnswers(service_app, lose)

    def client() -> KioskClient:
        return KioskClient(BASE_URL, terminal.key, timeout=5.0, transport=network)

    settings = KioskSettings(
        server_url=BASE_URL, device_key=terminal.key, language="fr", idle=CALM_IDLE
    )
    app: KioskApp = create_app(settings, client_factory=client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cash(pilot)
        await search(pilot, screen, "1001")
        await pilot.press("enter")
        await type_text(pilot, "10")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")  # confirm
        await settle(pilot)
        if lose > 3:
            assert "Nous n'avons pas pu confirmer le rechargement" in screen_text(app)
            assert screen.query_one("#cash-amount").disabled
            await pilot.click("#cash-credit")
            await settle(pilot)
        assert "crédités à Marie Dupont" in screen_text(app)
    assert len(network.keys) == lose + 1 and len(set(network.keys)) == 1
    assert await balance(factory, "1001") == 1000
