"""Snapshots of the main screens at 80×24 (the smallest terminal the kiosk supports, compact
layout) and 100×30 (a kiosk's screen), in French, and the first screens in English.

Everything that changes between runs is frozen: the terminal's wall clock (the welcome screen's
time, the badge's countdown) and the service's clock, the badge secret (so the QR is the same),
the dates of the tickets, and the cursor blink of every input.

The pictures are compared with `snap_compare`, which runs the app on an event loop of its own:
these tests are synchronous, and their data is made by async fixtures or at the start of
`run_before` (on the app's loop), before it drives the app as a person would. Update with
`--snapshot-update`, and look at the SVGs in `__snapshots__/test_snapshots/` before accepting
them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from textual.pilot import Pilot
from textual.widgets import Input

from kiosk.app import KioskApp
from kiosk.screens.account import AccountScreen
from kiosk.screens.badge import BadgeScreen
from kiosk.screens.change_pin import ChangePinScreen
from kiosk.screens.help import HelpScreen
from kiosk.screens.home import HomeScreen
from kiosk.screens.identifier import IdentifierScreen
from kiosk.screens.lost_badge import LostBadgeScreen
from kiosk.screens.notifications import NotificationsScreen
from kiosk.screens.order_new import OrderNewScreen
from kiosk.screens.personal_data import PersonalDataScreen
from kiosk.screens.pin import PinScreen
from kiosk.screens.reception import ReceptionScreen
from kiosk.screens.settings import SettingsScreen
from kiosk.screens.statement import StatementScreen
from kiosk.screens.tickets import TicketsScreen
from kiosk.screens.top_up import TopUpScreen
from kiosk.screens.visitor_code import VisitorCodeScreen
from kiosk.screens.visitor_start import VisitorStartScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk.settings import DisplaySettings
from kiosk_server.admin.catalogue import demo_catalogue_text
from kiosk_server.admin.help import demo_help_text
from kiosk_server.clock import ManualClock
from kiosk_server.models import Account, Site
from tests.factories import Factory
from tests.server.orders_support import load
from tests.server.test_help import load as load_help
from tests.server.top_up_support import SANDBOX_SETTINGS
from tests.terminal.conftest import PIN, KioskFactory, settle, type_text
from tests.terminal.test_account_screens import notify
from tests.terminal.visits_ui_support import Staff, staff

__all__ = ["staff"]

PARIS = ZoneInfo("Europe/Paris")

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((100, 30), id="100x30")]
"""The smallest terminal (compact layout below 30 rows) and a kiosk's screen."""

BADGE_SECRET = bytes(range(32))
"""A fixed badge secret: the same token, hence the same QR, on every run."""

TICKETS_START = dt.datetime(2026, 10, 26, 11, 15, tzinfo=dt.UTC)

RunBefore = Callable[[Pilot[Any]], Awaitable[None]]


class SnapCompare(Protocol):
    """The `snap_compare` fixture of pytest-textual-snapshot."""

    def __call__(
        self,
        app: KioskApp,
        press: tuple[str, ...] = (),
        terminal_size: tuple[int, int] = (80, 24),
        run_before: RunBefore | None = None,
    ) -> bool: ...


@pytest.fixture
def kiosk(make_kiosk: KioskFactory, clock: ManualClock) -> KioskFactory:
    """The kiosk app, its wall clock frozen on the service's (09:00 UTC, 10:00 in Paris)."""

    def build(**overrides: Any) -> KioskApp:
        app = make_kiosk(**overrides)
        app.clock = lambda: clock.now().astimezone(PARIS)
        return app

    return build


@pytest.fixture
async def jeanne(factory: Factory, site: Site) -> Account:
    """An active account with 42.50 on it and a fixed badge secret."""
    account = await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    await factory.ledger_entry(account, 4250)
    async with factory.session_factory() as session:
        await session.execute(
            update(Account).where(Account.id == account.id).values(badge_secret=BADGE_SECRET)
        )
        await session.commit()
    return account


@pytest.fixture
async def remi(factory: Factory, site: Site) -> Account:
    """A reception person: home has the reception desk's tile."""
    account = await factory.account(site, "R1", name="Rémi Accueil", pin=PIN, roles=["reception"])
    await factory.ledger_entry(account, 1230)
    return account


async def frozen(pilot: Pilot[Any]) -> None:
    """Let every worker finish, then stop the cursors blinking (a blink would show or hide the
    cursor depending on when the picture is taken)."""
    await settle(pilot)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


async def signed_in(pilot: Pilot[Any], identifier: str = "jeanne") -> None:
    """Signed in through the app's own client (the sign-in screens have their own pictures)."""
    app = pilot.app
    assert isinstance(app, KioskApp)
    await settle(pilot)
    me = await app.api().sign_in("CANTINE", identifier, PIN)
    app.open_session(me)
    await settle(pilot)
    assert isinstance(app.screen, HomeScreen)


async def open_tile(pilot: Pilot[Any], tile: str, screen: type[Any]) -> None:
    await pilot.click(f"#{tile}")
    await frozen(pilot)
    assert isinstance(pilot.app.screen, screen), pilot.app.screen


async def at_welcome(pilot: Pilot[Any]) -> None:
    await frozen(pilot)
    assert isinstance(pilot.app.screen, WelcomeScreen)
    assert pilot.app.screen.query_one("#start").disabled is False


async def at_identifier(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await type_text(pilot, "jeanne")
    await frozen(pilot)
    assert isinstance(pilot.app.screen, IdentifierScreen)


async def at_pin(pilot: Pilot[Any]) -> None:
    await at_identifier(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await type_text(pilot, "41")
    await frozen(pilot)
    assert isinstance(pilot.app.screen, PinScreen)


# Signing in -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_welcome(
    kiosk: KioskFactory, snap_compare: SnapCompare, size: tuple[int, int], language: str
) -> None:
    assert snap_compare(kiosk(language=language), terminal_size=size, run_before=at_welcome)


@pytest.mark.parametrize("size", SIZES)
def test_identifier(
    kiosk: KioskFactory, jeanne: Account, snap_compare: SnapCompare, size: tuple[int, int]
) -> None:
    assert snap_compare(kiosk(), terminal_size=size, run_before=at_identifier)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_pin(
    kiosk: KioskFactory,
    jeanne: Account,
    snap_compare: SnapCompare,
    size: tuple[int, int],
    language: str,
) -> None:
    assert snap_compare(kiosk(language=language), terminal_size=size, run_before=at_pin)


# Signed in ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_home(
    kiosk: KioskFactory,
    jeanne: Account,
    snap_compare: SnapCompare,
    size: tuple[int, int],
    language: str,
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await signed_in(pilot)
        await frozen(pilot)

    assert snap_compare(kiosk(language=language), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_home_reception(
    kiosk: KioskFactory, remi: Account, snap_compare: SnapCompare, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await signed_in(pilot, "R1")
        await frozen(pilot)
        assert pilot.app.screen.query("#reception")

    assert snap_compare(kiosk(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_badge(
    kiosk: KioskFactory, jeanne: Account, snap_compare: SnapCompare, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await signed_in(pilot)
        await open_tile(pilot, "badge", BadgeScreen)

    assert snap_compare(kiosk(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_tickets(
    kiosk: KioskFactory,
    factory: Factory,
    jeanne: Account,
    snap_compare: SnapCompare,
    size: tuple[int, int],
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await factory.ticket_history(jeanne, 6, start=TICKETS_START, every=dt.timedelta(days=1))
        await signed_in(pilot)
        await open_tile(pilot, "tickets", TicketsScreen)

    assert snap_compare(kiosk(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_top_up_choice(
    kiosk: KioskFactory,
    factory: Factory,
    site: Site,
    jeanne: Account,
    snap_compare: SnapCompare,
    size: tuple[int, int],
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        async with factory.session_factory() as session:
            await session.execute(
                update(Site).where(Site.id == site.id).values(settings=dict(SANDBOX_SETTINGS))
            )
            await session.commit()
        await signed_in(pilot)
        await open_tile(pilot, "top-up", TopUpScreen)
        assert pilot.app.screen.query("#preset-0")

    assert snap_compare(kiosk(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_place_an_order(
    kiosk: KioskFactory,
    factory: Factory,
    site: Site,
    jeanne: Account,
    snap_compare: SnapCompare,
    size: tuple[int, int],
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        # The embedded demo's catalogue, on Monday 2 November 2026 at 10:00 in Paris: more
        # items than an 80×24 terminal shows at once.
        await load(factory, site, demo_catalogue_text())
        await signed_in(pilot)
        await open_tile(pilot, "order", OrderNewScreen)
        await pilot.click("#plus-0")
        await frozen(pilot)

    assert snap_compare(kiosk(), terminal_size=size, run_before=run_before)


# The accessible display ----------------------------------------------------------------------

DISPLAYS = [
    pytest.param(DisplaySettings(high_contrast=True), id="high-contrast"),
    pytest.param(DisplaySettings(large_text=True), id="large-text"),
]
"""Each half of the accessible display (F2 switches both), as a terminal's default."""


async def top_up_choice(pilot: Pilot[Any], factory: Factory, site: Site) -> None:
    async with factory.session_factory() as session:
        await session.execute(
            update(Site).where(Site.id == site.id).values(settings=dict(SANDBOX_SETTINGS))
        )
        await session.commit()
    await signed_in(pilot)
    await open_tile(pilot, "top-up", TopUpScreen)


@pytest.mark.parametrize("display", DISPLAYS)
@pytest.mark.parametrize("screen", ["welcome", "pin", "home", "badge", "top-up"])
def test_accessible_display(
    kiosk: KioskFactory,
    factory: Factory,
    site: Site,
    jeanne: Account,
    snap_compare: SnapCompare,
    display: DisplaySettings,
    screen: str,
) -> None:
    """At 80×24, the smallest terminal: everything still fits."""

    async def run_before(pilot: Pilot[Any]) -> None:
        if screen == "welcome":
            await at_welcome(pilot)
        elif screen == "pin":
            await at_pin(pilot)
        elif screen == "home":
            await signed_in(pilot)
            await frozen(pilot)
        elif screen == "badge":
            await signed_in(pilot)
            await open_tile(pilot, "badge", BadgeScreen)
        else:
            await top_up_choice(pilot, factory, site)

    app = kiosk(display=display)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


# Visitors and the reception desk -----------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_visitor_start(
    kiosk: KioskFactory, snap_compare: SnapCompare, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.click("#visitor")
        await frozen(pilot)
        assert isinstance(pilot.app.screen, VisitorStartScreen)

    assert snap_compare(kiosk(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_visitor_code(
    kiosk: KioskFactory, snap_compare: SnapCompare, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.click("#visitor")
        await settle(pilot)
        await pilot.click("#visitor-code")
        await settle(pilot)
        await type_text(pilot, "K7M2QX")
        await frozen(pilot)
        assert isinstance(pilot.app.screen, VisitorCodeScreen)

    assert snap_compare(kiosk(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_reception_desk(
    kiosk: KioskFactory, staff: Staff, snap_compare: SnapCompare, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await staff.visit("Léa", "Dupont", "ACME")
        await staff.visit("Marc", "Durand", "Globex", approve=True)
        await staff.visit("Inès", "Bernard", "Initech", approve=True)
        await staff.visit("Zoé", "Martin", "Umbrella", approve=True, check_in=True)
        await signed_in(pilot, "R1")
        await open_tile(pilot, "reception", ReceptionScreen)

    assert snap_compare(kiosk(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_notifications(
    kiosk: KioskFactory,
    factory: Factory,
    jeanne: Account,
    snap_compare: SnapCompare,
    size: tuple[int, int],
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await notify(factory, jeanne, "order_ready", pickup_number=7)
        await notify(factory, jeanne, "visitor_arrived", visitor_name="Léa Dupont", company="ACME")
        await signed_in(pilot)
        await open_tile(pilot, "notifications", NotificationsScreen)
        await pilot.press("enter")
        await frozen(pilot)

    assert snap_compare(kiosk(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_account_and_change_pin(
    kiosk: KioskFactory, jeanne: Account, snap_compare: SnapCompare, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await signed_in(pilot)
        await open_tile(pilot, "account", AccountScreen)
        await open_tile(pilot, "change-pin", ChangePinScreen)

    assert snap_compare(kiosk(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_account(
    kiosk: KioskFactory, jeanne: Account, snap_compare: SnapCompare, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await signed_in(pilot)
        await open_tile(pilot, "account", AccountScreen)

    assert snap_compare(kiosk(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_lost_badge(
    kiosk: KioskFactory, jeanne: Account, snap_compare: SnapCompare, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await signed_in(pilot)
        await open_tile(pilot, "account", AccountScreen)
        await open_tile(pilot, "lost-badge", LostBadgeScreen)

    assert snap_compare(kiosk(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_help(
    kiosk: KioskFactory,
    factory: Factory,
    site: Site,
    snap_compare: SnapCompare,
    size: tuple[int, int],
    language: str,
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await load_help(factory, site, demo_help_text())
        await frozen(pilot)
        await open_tile(pilot, "help", HelpScreen)
        await pilot.press("enter")
        await frozen(pilot)

    assert snap_compare(kiosk(language=language), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_settings(
    kiosk: KioskFactory, jeanne: Account, snap_compare: SnapCompare, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await signed_in(pilot)
        await open_tile(pilot, "account", AccountScreen)
        await open_tile(pilot, "settings", SettingsScreen)

    assert snap_compare(kiosk(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_personal_data(
    kiosk: KioskFactory, jeanne: Account, snap_compare: SnapCompare, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await signed_in(pilot)
        await open_tile(pilot, "account", AccountScreen)
        await open_tile(pilot, "personal-data", PersonalDataScreen)

    assert snap_compare(kiosk(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_statement(
    kiosk: KioskFactory,
    factory: Factory,
    jeanne: Account,
    snap_compare: SnapCompare,
    size: tuple[int, int],
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await factory.ticket_history(jeanne, 6, start=TICKETS_START, every=dt.timedelta(days=1))
        await signed_in(pilot)
        await open_tile(pilot, "account", AccountScreen)
        await open_tile(pilot, "statement", StatementScreen)

    assert snap_compare(kiosk(), terminal_size=size, run_before=run_before)
