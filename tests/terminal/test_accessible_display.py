"""The accessible display: high contrast and large text, switched by F2 or the welcome screen's
button for one person, or made the terminal's default in its config. (The pictures of each half
on the main screens are in test_snapshots.py.)"""

from __future__ import annotations

import pytest
from textual.widgets import Button, Digits

from kiosk.app import KioskApp
from kiosk.display import HIGH_CONTRAST_THEME, PLAIN_BUTTON_BACKGROUND, contrast_ratio
from kiosk.screens.idle_countdown import IdleCountdownScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk.settings import DisplaySettings
from kiosk_server.models import Site
from tests.factories import Factory
from tests.terminal.conftest import PIN, SIZE, KioskFactory, settle
from tests.terminal.test_keyboard_only import sign_in_by_keys

THEME = HIGH_CONTRAST_THEME


def test_contrast_ratio_follows_wcag() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#123456", "#123456") == pytest.approx(1.0)


@pytest.mark.parametrize(
    "colour",
    [
        THEME.foreground,
        THEME.primary,
        THEME.secondary,
        THEME.accent,
        THEME.warning,
        THEME.error,
        THEME.success,
    ],
)
def test_every_colour_of_the_theme_reads_at_7_to_1_on_its_background(colour: str | None) -> None:
    assert colour is not None and THEME.background is not None
    assert contrast_ratio(colour, THEME.background) >= 7.0


@pytest.mark.parametrize("face", [THEME.primary, THEME.warning, THEME.error, THEME.success])
def test_a_coloured_buttons_label_reads_at_7_to_1(face: str | None) -> None:
    label = THEME.variables["button-color-foreground"]
    assert face is not None
    assert contrast_ratio(label, face) >= 7.0


def test_a_plain_button_shows_its_extent_and_its_label_reads() -> None:
    assert THEME.background is not None and THEME.foreground is not None
    assert contrast_ratio(PLAIN_BUTTON_BACKGROUND, THEME.background) >= 3.0
    assert contrast_ratio(THEME.foreground, PLAIN_BUTTON_BACKGROUND) >= 4.5


def _shown(app: KioskApp, selector: str) -> bool:
    return app.screen.query_one(selector).display


async def test_f2_switches_the_display_for_one_person_only(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    account = await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    await factory.ledger_entry(account, 4250)
    app = make_kiosk()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        standard = app.theme
        assert not _shown(app, "#welcome-clock-big")
        assert str(app.screen.query_one("#display", Button).label) == "Accessibilité (F2)"

        await pilot.press("f2")
        await pilot.pause()
        assert app.theme == THEME.name
        assert app.has_class("-large", "-high-contrast")
        assert _shown(app, "#welcome-clock-big") and not _shown(app, "#welcome-clock")
        assert str(app.screen.query_one("#display", Button).label) == "Affichage standard (F2)"

        # It stays on through the sign-in, driven by keys as a person would.
        await sign_in_by_keys(pilot, "jeanne")
        assert app.theme == THEME.name
        big = app.screen.query_one("#home-balance-big", Digits)
        assert big.display and big.value == "42,50\u00a0€"
        assert not _shown(app, "#home-balance")

        # Signing out brings the terminal's own look back for the next person.
        await pilot.press("ctrl+d")
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        assert app.theme == standard
        assert not app.has_class("-large") and not app.has_class("-high-contrast")


async def test_the_welcome_button_switches_it_back_and_forth(make_kiosk: KioskFactory) -> None:
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#display", Button).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.high_contrast and app.large_text
        await pilot.pause(0.3)  # a button ignores a second press within 0.2 s
        await pilot.press("enter")
        await pilot.pause()
        assert not app.high_contrast and not app.large_text


async def test_a_terminal_can_start_with_either_half_on(make_kiosk: KioskFactory) -> None:
    app = make_kiosk(display=DisplaySettings(high_contrast=True))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == THEME.name
        assert not app.has_class("-large")
        # F2 turns both on (one half was off), then both off.
        await pilot.press("f2")
        await pilot.pause()
        assert app.high_contrast and app.large_text
        await pilot.press("f2")
        await pilot.pause()
        assert not app.high_contrast and not app.large_text
        assert app.theme != THEME.name


async def test_the_idle_countdown_shows_its_seconds_in_big_figures(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    app = make_kiosk(display=DisplaySettings(large_text=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in_by_keys(pilot, "jeanne")
        app.push_screen(IdleCountdownScreen(25))
        await pilot.pause()
        big = app.screen.query_one("#idle-countdown-big", Digits)
        assert big.display and big.value == "25"
        assert big.region.height == 3 and app.screen.region.contains_region(big.region)
