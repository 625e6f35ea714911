"""Help at the kiosk, on the real service: from the welcome screen with nobody signed in, and
from home; searched as the person types; the site's text shown as text, never markup."""

from __future__ import annotations

from textual.widgets import OptionList, Static

from kiosk.screens.help import HelpScreen
from kiosk.screens.home import HomeScreen
from kiosk_server.models import Site
from tests.factories import Factory
from tests.server.test_help import SMALL, load
from tests.terminal.conftest import PIN, SIZE, KioskFactory, screen_text, settle, type_text
from tests.terminal.test_tickets_screen import sign_in


def questions(screen: HelpScreen) -> list[str]:
    listed = screen.query_one("#help-questions", OptionList)
    return [str(listed.get_option_at_index(i).prompt) for i in range(listed.option_count)]


def answer(screen: HelpScreen) -> str:
    return str(screen.query_one("#help-answer", Static).render())


async def test_help_from_the_welcome_screen_searched_as_one_types(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await load(factory, site, SMALL)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.click("#help")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        assert questions(screen) == ["J'ai oublié mon code PIN", "[b]Où me garer ?[/b]"]
        assert "Toujours bloqué(e) ? Accueil : poste 12" in screen_text(app)
        # Case and accents do not matter; the only match is shown at once.
        await type_text(pilot, "GARER")
        await settle(pilot)
        assert questions(screen) == ["[b]Où me garer ?[/b]"]
        assert answer(screen) == "[b]Où me garer ?[/b]\n\nParking P2, niveau -1. Badge à l'entrée."
        await type_text(pilot, "zzz")
        await settle(pilot)
        assert questions(screen) == ["Aucune question ne correspond."]
        assert answer(screen) == ""
        for _ in range(8):
            await pilot.press("backspace")
        await pilot.press("enter")  # to the list, the first question highlighted
        await settle(pilot)
        assert app.focused is screen.query_one("#help-questions", OptionList)
        assert answer(screen).startswith("J'ai oublié mon code PIN")
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)


async def test_help_from_home_is_the_persons_site_in_the_kiosks_language(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await load(factory, site, SMALL)
    await factory.account(site, "jeanne", pin=PIN)
    app = make_kiosk(language="en")
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        assert isinstance(app.screen, HomeScreen)
        await pilot.click("#help")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        assert questions(screen)[0] == "I forgot my PIN"
