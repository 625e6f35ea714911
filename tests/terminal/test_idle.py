"""Idle time-out: the countdown, then the wipe back to a fresh welcome screen. The app's idle
clock is the test's own (`Ticker`), moved past the idle times instead of waited for."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.pilot import Pilot

from kiosk.app import KioskApp
from kiosk.screens.home import HomeScreen
from kiosk.screens.idle_countdown import IdleCountdownScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk.settings import IdleSettings
from kiosk_server.models import Site
from tests.factories import Factory
from tests.terminal.conftest import (
    CALM_IDLE,
    PIN,
    SIZE,
    KioskFactory,
    all_text,
    screen_text,
    settle,
    stack,
    type_text,
    wait_until,
)

IDLE = IdleSettings(default_seconds=60, countdown_seconds=30, typing_seconds=90)


class Ticker:
    """A steady clock in seconds that the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def _sign_in(pilot: Pilot[Any], idle: IdleSettings, ticker: Ticker | None = None) -> None:
    """Sign in with calm idle times, then switch to `idle` (and to the test's idle clock)."""
    await settle(pilot)
    await pilot.press("enter")
    await type_text(pilot, "jeanne")
    await pilot.press("enter")
    await settle(pilot)
    await type_text(pilot, PIN)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, HomeScreen)
    app = pilot.app
    assert isinstance(app, KioskApp)
    app.settings = replace(app.settings, idle=idle)
    if ticker is not None:
        app.idle_clock = ticker
    app.note_activity()


async def test_idle_countdown_then_wipe(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    account = await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    await factory.ledger_entry(account, 1250)
    app: KioskApp = make_kiosk()
    ticker = Ticker()
    bells: list[float] = []
    # The terminal's bell announces the countdown to a person not looking at the screen.
    app.bell = lambda: bells.append(ticker.now)  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await _sign_in(pilot, IDLE, ticker)
        assert "Jeanne Martin" in all_text(app)
        ticker.advance(59)
        await pilot.pause(0.3)  # past a tick of the idle check: not yet
        assert isinstance(app.screen, HomeScreen)
        ticker.advance(2)
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, IdleCountdownScreen))
        assert "Toujours là" in screen_text(app)
        assert "Déconnexion dans 30 secondes" in screen_text(app)
        assert len(bells) == 1
        ticker.advance(15)
        await pilot.pause(0.3)
        assert len(bells) == 1
        ticker.advance(5)
        await wait_until(pilot, lambda: "Déconnexion dans 10 secondes" in screen_text(app))
        await wait_until(pilot, lambda: len(bells) == 2)
        ticker.advance(10)
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, WelcomeScreen))
        await settle(pilot)
        assert stack(app) == [WelcomeScreen]
        text = all_text(app)
        assert "Jeanne" not in text
        assert "12,50" not in text
        assert app.session is None
        assert app.client is not None and not app.client.has_session


async def test_a_key_during_the_countdown_keeps_the_session(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    app: KioskApp = make_kiosk()
    ticker = Ticker()
    async with app.run_test(size=SIZE) as pilot:
        await _sign_in(pilot, IDLE, ticker)
        ticker.advance(61)
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, IdleCountdownScreen))
        await pilot.press("space")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert app.session is not None and app.session.name == "Jeanne Martin"
        assert "Jeanne Martin" in screen_text(app)


async def test_sign_out_from_home_wipes_the_person(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    app: KioskApp = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await _sign_in(pilot, CALM_IDLE)
        await pilot.click("#sign-out")
        await settle(pilot)
        assert stack(app) == [WelcomeScreen]
        assert "Jeanne" not in all_text(app)
        assert app.session is None


async def test_the_next_person_finds_the_welcome_screen_fresh(make_kiosk: KioskFactory) -> None:
    """The welcome screen stays at the bottom of the stack for good: a person leaving it in
    another language, with a message on it, leaves the next one the terminal's language, no
    message and Start focused."""
    app: KioskApp = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.connection == "ready")
        await settle(pilot)
        welcome = app.screen
        await pilot.click("#language")
        await wait_until(pilot, lambda: "Badge kiosk" in screen_text(app))
        assert isinstance(welcome, WelcomeScreen)
        welcome.show_message("A message for the last person")
        await settle(pilot)
        assert "A message for the last person" in screen_text(app)

        app.end_session()
        await wait_until(pilot, lambda: "Borne badge" in screen_text(app))
        await settle(pilot)

        assert stack(app) == [WelcomeScreen]
        assert app.screen is welcome
        assert "A message for the last person" not in screen_text(app)
        assert app.focused is not None and app.focused.id == "start"
