"""Every time a person reads is the site's, whatever the machine's time zone (a kiosk's machine
often runs on UTC): the welcome clock before anyone signs in, and the desk's files."""

from __future__ import annotations

import datetime as dt

from kiosk.screens.welcome import WelcomeScreen
from tests.terminal.conftest import SIZE, KioskFactory, screen_text, settle

# 05:11 in UTC is 06:11 in Paris (the test site's time zone) on a December morning.
UTC_MORNING = dt.datetime(2026, 12, 7, 5, 11, tzinfo=dt.UTC)


async def test_the_welcome_clock_shows_the_sites_time(make_kiosk: KioskFactory) -> None:
    app = make_kiosk()
    app.clock = lambda: UTC_MORNING
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.connection == "ready"
        welcome = app.screen
        assert isinstance(welcome, WelcomeScreen)
        welcome._tick()
        await pilot.pause()
        text = screen_text(app)
        assert "06:11" in text
        assert "05:11" not in text
