"""Untrusted text (a name from the service) is shown as it is, never run as markup."""

from __future__ import annotations

from textual.widgets import Static

from kiosk.screens.home import HomeScreen
from kiosk_server.models import Site
from tests.factories import Factory
from tests.terminal.conftest import PIN, SIZE, KioskFactory, settle, type_text

NAME = "[@click=app.quit]Bob[/]"


async def test_markup_in_a_name_is_shown_literally_and_not_run(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "bob", name=NAME + "\x1b[31m", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await type_text(pilot, "bob")
        await pilot.press("enter")
        await settle(pilot)
        await type_text(pilot, PIN)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        shown = str(app.screen.query_one("#home-name", Static).render())
        assert shown == f"Bonjour {NAME}"
        assert "\x1b" not in shown
        await pilot.click("#home-name", offset=(10, 0))
        await pilot.pause()
        assert app.is_running
        assert isinstance(app.screen, HomeScreen)
