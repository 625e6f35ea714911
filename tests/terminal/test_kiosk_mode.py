"""Kiosk mode: no key quits, the maintenance PIN does; a crash goes back to welcome."""

from __future__ import annotations

import logging
from typing import Any, NoReturn

import pytest
from argon2 import PasswordHasher
from textual.pilot import Pilot

from kiosk.screens.home import HomeScreen
from kiosk.screens.maintenance import MaintenanceScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk_server.models import Site
from tests.factories import Factory
from tests.terminal.conftest import (
    PIN,
    SIZE,
    KioskFactory,
    all_text,
    screen_text,
    settle,
    stack,
    type_text,
)

MAINTENANCE_PIN = "2468"


def _pin_hash() -> str:
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(MAINTENANCE_PIN)


async def test_no_key_quits_a_kiosk_but_the_maintenance_pin_does(make_kiosk: KioskFactory) -> None:
    app = make_kiosk(kiosk_mode=True, maintenance_pin_hash=_pin_hash())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+q", "ctrl+c")
        await pilot.pause()
        assert app.is_running
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.press("f12")
        await pilot.pause()
        assert isinstance(app.screen, MaintenanceScreen)
        await type_text(pilot, "1111")
        await pilot.press("enter")
        await settle(pilot)
        assert "Code de maintenance incorrect." in screen_text(app)
        await type_text(pilot, MAINTENANCE_PIN)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.click("#quit")
        await pilot.pause()
    assert app.return_code == 0
    assert not app.is_running


async def test_three_wrong_maintenance_pins_lock_maintenance(make_kiosk: KioskFactory) -> None:
    app = make_kiosk(kiosk_mode=True, maintenance_pin_hash=_pin_hash())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f12")
        for _ in range(3):
            await type_text(pilot, "1111")
            await pilot.press("enter")
            await settle(pilot)
        await type_text(pilot, MAINTENANCE_PIN)
        await pilot.press("enter")
        await settle(pilot)
        assert "La maintenance est verrouillée" in screen_text(app)
        assert not app.screen.query("#quit")


async def test_outside_kiosk_mode_ctrl_q_quits(make_kiosk: KioskFactory) -> None:
    app = make_kiosk(kiosk_mode=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f12")
        await pilot.pause()
        assert not isinstance(app.screen, MaintenanceScreen)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert not app.is_running


async def _signed_in(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("enter")
    await type_text(pilot, "jeanne")
    await pilot.press("enter")
    await settle(pilot)
    await type_text(pilot, PIN)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, HomeScreen)


def _boom(*args: object) -> NoReturn:
    secret = "Jeanne's local variable"  # noqa: F841 - must not reach the log
    raise RuntimeError("boom in a handler")


@pytest.mark.parametrize("where", ["screen handler", "app action"])
async def test_a_crash_in_kiosk_mode_goes_back_to_welcome(
    make_kiosk: KioskFactory,
    factory: Factory,
    site: Site,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    where: str,
) -> None:
    await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    app = make_kiosk(kiosk_mode=True, maintenance_pin_hash=_pin_hash())
    caplog.set_level(logging.ERROR, logger="kiosk.app")
    async with app.run_test(size=SIZE) as pilot:
        await _signed_in(pilot)
        if where == "screen handler":
            # The language button's handler runs in the home screen's own message loop, and
            # what it calls raises there.
            monkeypatch.setattr(type(app), "switch_language", _boom)
            await pilot.click("#language")
        else:
            # A key binding's action runs in the app's message loop.
            monkeypatch.setattr(HomeScreen, "action_sign_out", _boom)
            await pilot.press("ctrl+d")
        await settle(pilot)
        assert app.is_running
        assert stack(app) == [WelcomeScreen]
        text = all_text(app)
        assert "Traceback" not in text
        assert "Jeanne" not in text
        assert app.session is None
        # The kiosk still works: a person can start again.
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, WelcomeScreen)
    logged = caplog.text
    assert "RuntimeError: boom in a handler" in logged
    assert "local variable" not in logged
