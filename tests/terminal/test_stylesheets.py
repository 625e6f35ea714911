"""Every stylesheet of the kiosk is read: the welcome screen's before the first frame, the other
screens' a moment after it, or as soon as a person leaves the welcome screen if they are quicker
(`KioskApp.CSS_PATH`, `_LATER_CSS`, `KioskApp.read_later_css`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk import app as kiosk_app
from kiosk.screens import welcome
from tests.terminal.conftest import SIZE, KioskFactory, settle, wait_until

KIOSK_DIR = Path(kiosk_app.__file__).parent


def test_every_stylesheet_is_listed_once() -> None:
    on_disk = sorted(str(path.relative_to(KIOSK_DIR)) for path in KIOSK_DIR.rglob("*.tcss"))
    listed = [*kiosk_app.KioskApp.CSS_PATH, *kiosk_app._LATER_CSS]
    assert sorted(listed) == on_disk


def _missing(app: kiosk_app.KioskApp) -> list[Path]:
    return [
        path
        for path in sorted(KIOSK_DIR.rglob("*.tcss"))
        if not app.stylesheet.has_source(str(path.resolve()))
    ]


async def test_once_the_welcome_screen_is_up_every_stylesheet_comes_in_force(
    make_kiosk: KioskFactory,
) -> None:
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await wait_until(pilot, lambda: not _missing(app))


async def test_leaving_the_welcome_screen_first_brings_every_stylesheet_in_force(
    make_kiosk: KioskFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(welcome, "LATER_CSS_SECONDS", 3600)  # only leaving can bring them
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert _missing(app)  # the welcome screen's rules only, so far
        await pilot.press("enter")  # Start
        await wait_until(pilot, lambda: not isinstance(app.screen, welcome.WelcomeScreen))
        assert _missing(app) == []
