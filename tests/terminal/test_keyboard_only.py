"""Every main journey driven by the keyboard alone (WCAG 2.2, 2.1.1 Keyboard and 2.4.7 Focus
Visible): Tab, Shift+Tab, arrows, Enter, Space, Escape, digits and letters, never a click nor a
call into a screen. At each step some widget has the focus, so that a person sees where they are.
On the real service, at the tests' size and at 80×24 where it costs little."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Digits, Input, OptionList

from kiosk.screens.account import AccountScreen
from kiosk.screens.badge import BadgeScreen
from kiosk.screens.confirm_money import ConfirmMoneyScreen
from kiosk.screens.help import HelpScreen
from kiosk.screens.home import HomeScreen
from kiosk.screens.identifier import IdentifierScreen
from kiosk.screens.notifications import NotificationsScreen
from kiosk.screens.order_new import OrderNewScreen
from kiosk.screens.personal_data import PersonalDataScreen
from kiosk.screens.pin import PinScreen
from kiosk.screens.settings import SettingsScreen
from kiosk.screens.top_up import TopUpScreen
from kiosk.screens.visit_detail import VisitDetailScreen
from kiosk.screens.visit_form import VisitFormScreen
from kiosk.screens.visitor_badge import VisitorBadgeScreen
from kiosk.screens.visitor_code import VisitorCodeScreen
from kiosk.screens.visitor_start import VisitorStartScreen
from kiosk.screens.visitor_visit import VisitorVisitScreen
from kiosk.screens.visits import VisitsScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk.widgets.keypad import Keypad
from kiosk.widgets.qr_view import QrView
from kiosk.widgets.tick_box import TickBox
from kiosk_server.clock import ManualClock
from kiosk_server.models import Site, VisitVisitor
from tests.factories import Factory
from tests.server.orders_support import at_paris, load
from tests.server.test_help import SMALL as SMALL_HELP
from tests.server.test_help import load as load_help
from tests.server.top_up_support import (
    WebhookOutbox,
    press,
    sandbox_site_fixture,
    webhooks_fixture,
)
from tests.server.visits_support import (
    DAY,
    People,
    invitation_code,
    people_fixture,  # noqa: F401 - the `people` fixture
    set_local,
)
from tests.terminal.conftest import (
    PIN,
    SIZE,
    KioskFactory,
    screen_text,
    settle,
    type_text,
    wait_until,
)
from tests.terminal.test_account_screens import notify
from tests.terminal.test_orders_screen import balance_of, item_index, order_count
from tests.terminal.test_top_up_screen import top_up_entries
from tests.terminal.visits_ui_support import Staff, staff

__all__ = ["staff"]

# The sandbox payment provider on the tests' site (the top-up journey pays through it; the
# other journeys do not mind it).
site = sandbox_site_fixture()
webhooks = webhooks_fixture()

S = TypeVar("S", bound=Screen[Any])

SMALL = (80, 24)
"""The smallest terminal the kiosk supports."""

SIZES = pytest.mark.parametrize("size", [SIZE, SMALL], ids=["100x30", "80x24"])

TAB_LIMIT = 60
"""More Tab presses than any screen has stops: past it, the target is not in the Tab order."""


@pytest.fixture(autouse=True)
def _fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    # The top-up screen asks every 2 s; the journey need not wait that long.
    monkeypatch.setattr("kiosk.screens.top_up.POLL_SECONDS", 0.05)


# Keys, and what a person sees -------------------------------------------------------------------


def focused(app: App[Any]) -> Widget:
    """The widget with the focus, at least partly on the screen; failing when none has it or it
    is wholly out of sight (nothing would show where the person is: WCAG 2.4.7, and 2.4.11's
    "not entirely hidden")."""
    widget = app.focused
    where = type(app.screen).__name__
    assert widget is not None, f"no focus on {where}"
    geometry = app.screen.find_widget(widget)
    seen = geometry.region.intersection(geometry.clip)
    assert seen.area > 0, f"#{widget.id} out of sight on {where}"
    return widget


async def keys(pilot: Pilot[Any], *pressed: str) -> None:
    """Press keys, let the app answer, and check the focus is somewhere."""
    await pilot.press(*pressed)
    await settle(pilot)
    focused(pilot.app)


async def type_in(pilot: Pilot[Any], text: str) -> None:
    """Type `text` key by key into the focused widget."""
    focused(pilot.app)
    await type_text(pilot, text)
    await settle(pilot)
    focused(pilot.app)


async def tab_to(pilot: Pilot[Any], widget_id: str, key: str = "tab") -> Widget:
    """Press Tab (or `key`) until `#widget_id` has the focus, as a person moves along the screen;
    fails if it never comes (not reachable by the keyboard)."""
    app = pilot.app
    for _ in range(TAB_LIMIT):
        if focused(app).id == widget_id:
            return focused(app)
        await pilot.press(key)
        await pilot.pause()
    raise AssertionError(f"#{widget_id} never gets the focus with {key} on {type(app.screen)}")


async def activate(pilot: Pilot[Any], widget_id: str, key: str = "tab") -> None:
    """Tab to `#widget_id` and press Enter on it."""
    await tab_to(pilot, widget_id, key)
    await keys(pilot, "enter")


def tab_order(app: App[Any]) -> list[Widget]:
    """The screen's focusable widgets in the order Tab visits them."""
    return list(app.screen.focus_chain)


def in_reading_order(widgets: list[Widget]) -> bool:
    """True when the widgets come top to bottom, and left to right on one line."""
    places = [(widget.region.y, widget.region.x) for widget in widgets]
    return places == sorted(places)


def on_top(app: App[Any]) -> Screen[Any]:
    """The screen on top (read afresh after a key)."""
    return app.screen


def current(app: App[Any], kind: type[S]) -> S:
    """The screen on top, which must be a `kind`."""
    screen = app.screen
    assert isinstance(screen, kind), f"{type(screen).__name__} instead of {kind.__name__}"
    return screen


def shown(app: App[Any], selector: str) -> str:
    """What one widget of the screen on top shows."""
    return str(app.screen.query_one(selector).render())


async def sign_in_by_keys(pilot: Pilot[Any], identifier: str, *, news: bool = False) -> HomeScreen:
    """From the welcome screen to home: Enter, the identifier, Enter, the PIN, Enter. `news`:
    home has something new to show (and then loses the focus, see `at_home`)."""
    app = pilot.app
    await settle(pilot)
    assert isinstance(app.screen, WelcomeScreen)
    await activate(pilot, "start")  # where the focus starts, or Tab to it
    assert isinstance(app.screen, IdentifierScreen)
    assert isinstance(focused(app), Input)
    await type_in(pilot, identifier)
    await keys(pilot, "enter")
    assert isinstance(app.screen, PinScreen)
    assert isinstance(focused(app), Keypad)
    await type_in(pilot, PIN)
    await pilot.press("enter")
    home, lost = await at_home(pilot)
    assert not lost or news, "home lost the focus with nothing new to show"
    return home


async def at_home(pilot: Pilot[Any]) -> tuple[HomeScreen, bool]:
    """Home, once it has the service's word, with the focus on one of its buttons; True with it
    when the focus was lost and Tab brought it back.

    Home draws itself again when the service has news (an unread notification, a top-up
    credited), and the focus is lost then: nothing shows where the person is until they press
    Tab. A defect of kiosk/screens/home.py, pinned by
    `test_home_keeps_the_focus_when_it_redraws`; the journeys go on as a person would."""
    app = pilot.app
    await settle(pilot)
    home = current(app, HomeScreen)
    lost = app.focused is None
    if lost:
        await keys(pilot, "tab")
    assert isinstance(focused(app), Button)
    return home, lost


# 1. Sign in ---------------------------------------------------------------------------------


@SIZES
async def test_sign_in_and_see_the_balance(
    make_kiosk: KioskFactory, factory: Factory, site: Site, size: tuple[int, int]
) -> None:
    jeanne = await factory.account(site, "jeanne", name="Jeanne Roux", pin=PIN)
    await factory.ledger_entry(jeanne, 1250)
    app = make_kiosk()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert focused(app).id == "start"  # Enter alone starts
        home = await sign_in_by_keys(pilot, "jeanne")
        assert shown(app, "#home-balance-label") == "Votre solde"
        assert shown(app, "#home-balance") == "12,50\xa0€"
        assert "Jeanne Roux" in shown(app, "#home-name")
        # Tab goes round home in the order it reads, and Shift+Tab back.
        order = tab_order(app)
        assert in_reading_order(order), [widget.id for widget in order]
        first = focused(app)
        await tab_to(pilot, "sign-out")
        await tab_to(pilot, first.id or "", "shift+tab")
        assert on_top(app) is home


# 2. Badge ---------------------------------------------------------------------------------------


@SIZES
async def test_open_the_badge_and_come_back(
    make_kiosk: KioskFactory, factory: Factory, site: Site, size: tuple[int, int]
) -> None:
    await factory.account(site, "jeanne", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=size) as pilot:
        await sign_in_by_keys(pilot, "jeanne")
        await activate(pilot, "badge")
        screen = current(app, BadgeScreen)
        await wait_until(pilot, lambda: screen.query_one(QrView).payload is not None)
        assert focused(app).id == "back"
        await keys(pilot, "enter")  # Back
        assert isinstance(app.screen, HomeScreen)
        await activate(pilot, "badge")
        assert isinstance(app.screen, BadgeScreen)
        await keys(pilot, "escape")
        assert isinstance(app.screen, HomeScreen)


# 3. Top up --------------------------------------------------------------------------------------


@SIZES
async def test_top_up_through_the_confirmation(
    make_kiosk: KioskFactory,
    factory: Factory,
    site: Site,
    webhooks: WebhookOutbox,
    api: httpx.AsyncClient,
    size: tuple[int, int],
) -> None:
    jeanne = await factory.account(site, "jeanne", pin=PIN)
    await factory.ledger_entry(jeanne, 1000)
    app = make_kiosk()
    async with app.run_test(size=size) as pilot:
        await sign_in_by_keys(pilot, "jeanne")
        await activate(pilot, "top-up")
        screen = current(app, TopUpScreen)
        assert focused(app).id == "preset-0"
        # The second preset: 20,00 €.
        await activate(pilot, "preset-1")
        assert isinstance(app.screen, ConfirmMoneyScreen)
        assert "20,00\xa0€" in screen_text(app)
        assert focused(app).id == "confirm"
        # Escape changes nothing; the typed amount goes the same way.
        await keys(pilot, "escape")
        assert on_top(app) is screen
        await tab_to(pilot, "amount")
        await type_in(pilot, "20,00")
        await keys(pilot, "enter")
        assert isinstance(app.screen, ConfirmMoneyScreen)
        assert "Solde après paiement : 30,00\xa0€" in screen_text(app)
        await keys(pilot, "enter")  # Top up
        await wait_until(pilot, lambda: screen.top_up is not None and screen.phase == "pending")
        await settle(pilot)
        assert focused(app).id == "cancel-top-up"
        assert screen.top_up is not None
        # The person pays on their phone.
        await press(api, {"checkout_url": screen.top_up.checkout_url}, "pay")
        await wait_until(pilot, lambda: screen.phase == "done")
        await settle(pilot)
        assert "Votre solde : 30,00\xa0€" in screen_text(app)
        assert focused(app).id == "back"
        await pilot.press("enter")  # Back to home
        await at_home(pilot)  # which says the top-up was credited, and loses the focus
        assert shown(app, "#home-balance") == "30,00\xa0€"
    assert await top_up_entries(factory, jeanne) == [1000, 2000]


# 4. Order ---------------------------------------------------------------------------------------


@SIZES
async def test_place_an_order(
    make_kiosk: KioskFactory,
    factory: Factory,
    site: Site,
    clock: ManualClock,
    size: tuple[int, int],
) -> None:
    await load(factory, site)
    at_paris(clock, 9, 0)
    jeanne = await factory.account(site, "jeanne", pin=PIN)
    await factory.ledger_entry(jeanne, 5000)
    app = make_kiosk()
    async with app.run_test(size=size) as pilot:
        await sign_in_by_keys(pilot, "jeanne")
        await activate(pilot, "order")
        screen = current(app, OrderNewScreen)
        plat = item_index(screen, "PLAT")
        await activate(pilot, f"plus-{plat}")
        assert "Panier : 8,50\xa0€ · solde après : 41,50\xa0€" in screen_text(app)
        await activate(pilot, "place")
        assert isinstance(app.screen, ConfirmMoneyScreen)
        assert "8,50\xa0€" in screen_text(app)
        await keys(pilot, "enter")  # Pay
        assert on_top(app) is screen
        assert screen.receipt is not None
        assert screen.query_one("#order-pickup", Digits).value == "1"
        assert "Votre solde : 41,50\xa0€" in screen_text(app)
        assert focused(app).id == "back"
        await keys(pilot, "enter")  # Done
        assert isinstance(app.screen, HomeScreen)
        await wait_until(pilot, lambda: shown(app, "#home-balance") == "41,50\xa0€")
    assert await order_count(factory) == 1
    assert await balance_of(factory, jeanne) == 4150


# 5. Visit request ------------------------------------------------------------------------------


@SIZES
async def test_declare_a_visit_and_submit_it(
    make_kiosk: KioskFactory, staff: Staff, size: tuple[int, int]
) -> None:
    app = make_kiosk()
    async with app.run_test(size=size) as pilot:
        await sign_in_by_keys(pilot, "H1")
        await activate(pilot, "visits")
        assert isinstance(app.screen, VisitsScreen)
        await activate(pilot, "new-visit")
        assert isinstance(app.screen, VisitFormScreen)
        # Tab goes from field to field in the order they read.
        fields = [widget for widget in tab_order(app) if isinstance(widget, Input)]
        assert in_reading_order(fields), [widget.id for widget in fields]
        for field, text in (
            ("visitors-0-first_name", "Léa"),
            ("visitors-0-last_name", "Dupont"),
            ("visitors-0-company", "ACME"),
            ("visitors-0-email", "lea@example.com"),
            ("first_day", "03/11/2026"),
            ("arrival_from", "14:00"),
            ("arrival_until", "15:00"),
            ("reason", "Réunion projet"),
        ):
            await tab_to(pilot, field)
            await type_in(pilot, text)
        await activate(pilot, "submit")
        detail = current(app, VisitDetailScreen)
        assert detail.visit is not None
        assert "En attente d'approbation" in screen_text(app)
        assert "Léa Dupont (ACME) · lea@example.com" in screen_text(app)
        await keys(pilot, "escape")
        visits = current(app, VisitsScreen)
        await wait_until(pilot, lambda: visits.visits is not None)
        listed = visits.query_one("#visit-list", OptionList)
        assert "En attente d'approbation" in str(listed.get_option_at_index(0).prompt)
        await keys(pilot, "escape")
        assert isinstance(app.screen, HomeScreen)
    served = await staff.host.visit(detail.visit.id)
    assert (served.state, served.reason) == ("requested", "Réunion projet")


# 6. Account area ---------------------------------------------------------------------------------


@SIZES
async def test_notifications_personal_data_and_a_setting(
    make_kiosk: KioskFactory, factory: Factory, site: Site, size: tuple[int, int]
) -> None:
    jeanne = await factory.account(
        site, "jeanne", name="Jeanne Roux", pin=PIN, email="jeanne@example.com"
    )
    await notify(factory, jeanne, "order_ready", pickup_number=7)
    app = make_kiosk()
    async with app.run_test(size=size) as pilot:
        home = await sign_in_by_keys(pilot, "jeanne", news=True)
        assert home.unread_count == 1
        await activate(pilot, "notifications")
        assert isinstance(app.screen, NotificationsScreen)
        assert focused(app).id == "notification-list"
        await keys(pilot, "down", "enter")
        assert shown(app, "#notification-text") == "Vous pouvez la retirer dès maintenant."
        await keys(pilot, "escape")
        assert on_top(app) is home
        await wait_until(pilot, lambda: home.unread_count == 0)

        await activate(pilot, "account")
        assert isinstance(app.screen, AccountScreen)
        await activate(pilot, "personal-data")
        assert isinstance(app.screen, PersonalDataScreen)
        text = screen_text(app)
        assert "Jeanne Roux" in text and "j***@example.com" in text
        await keys(pilot, "escape")
        assert isinstance(app.screen, AccountScreen)

        await activate(pilot, "settings")
        assert isinstance(app.screen, SettingsScreen)
        # The low-balance alert, typed; an email channel unticked with Space.
        await tab_to(pilot, "settings-low-balance")
        await type_in(pilot, "7,50")
        box = await tab_to(pilot, "email-order_ready")
        assert isinstance(box, TickBox) and box.value
        await keys(pilot, "space")
        assert not box.value
        await activate(pilot, "save")
        assert "Vos paramètres sont enregistrés." in screen_text(app)
        await keys(pilot, "escape")
        assert isinstance(app.screen, AccountScreen)
        await keys(pilot, "escape")
        assert isinstance(app.screen, HomeScreen)
        saved = await app.api().settings()
        assert saved.low_balance is not None and saved.low_balance.amount_cents == 750
        assert not saved.notify["order_ready"].email


# 7. Visitor -----------------------------------------------------------------------------------


@SIZES
async def test_a_visitor_checks_in_with_their_code(
    make_kiosk: KioskFactory,
    people: People,
    factory: Factory,
    clock: ManualClock,
    size: tuple[int, int],
) -> None:
    approved = await people.approved()
    code = await invitation_code(factory, "lea@example.com")
    set_local(clock, DAY, "14:05")
    app = make_kiosk()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        await activate(pilot, "visitor")
        assert isinstance(app.screen, VisitorStartScreen)
        await activate(pilot, "visitor-code")
        assert isinstance(app.screen, VisitorCodeScreen)
        await type_in(pilot, code)
        await keys(pilot, "enter")  # on to the last name
        await type_in(pilot, "Dupont")
        await keys(pilot, "enter")
        assert isinstance(app.screen, VisitorVisitScreen)
        assert "Hélène Girard" in screen_text(app)
        accept = await tab_to(pilot, "visitor-accept")
        await keys(pilot, "space")
        assert isinstance(accept, TickBox) and accept.value
        await activate(pilot, "visitor-check-in")
        assert isinstance(app.screen, VisitorBadgeScreen)
        assert "Léa Dupont" in screen_text(app)
        assert focused(app).id == "finish"
        await keys(pilot, "enter")
        assert isinstance(app.screen, WelcomeScreen)
    async with factory.session_factory() as session:
        row = await session.get(VisitVisitor, approved["visitors"][0]["id"])
        assert row is not None and row.checked_in_at is not None


# 8. Help ----------------------------------------------------------------------------------------


@SIZES
async def test_help_from_welcome_and_from_home(
    make_kiosk: KioskFactory, factory: Factory, site: Site, size: tuple[int, int]
) -> None:
    await load_help(factory, site, SMALL_HELP)
    await factory.account(site, "jeanne", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await activate(pilot, "help")
        screen = current(app, HelpScreen)
        assert focused(app).id == "help-search"
        await type_in(pilot, "oublie")
        await keys(pilot, "enter")  # to the questions
        questions = screen.query_one("#help-questions", OptionList)
        assert focused(app) is questions
        assert questions.option_count == 1
        assert shown(app, "#help-answer").startswith("J'ai oublié mon code PIN")
        await keys(pilot, "escape")
        assert isinstance(app.screen, WelcomeScreen)
        assert focused(app).id == "start"  # Enter starts, as the welcome screen says

        await sign_in_by_keys(pilot, "jeanne")
        await activate(pilot, "help")
        assert isinstance(app.screen, HelpScreen)
        await tab_to(pilot, "back")
        await keys(pilot, "enter")
        assert isinstance(app.screen, HomeScreen)


# Redrawn screens keep the focus ---------------------------------------------------------------


async def test_home_keeps_the_focus_when_it_redraws(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    jeanne = await factory.account(site, "jeanne", pin=PIN)
    await notify(factory, jeanne, "order_ready", pickup_number=7)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await activate(pilot, "start")
        await type_in(pilot, "jeanne")
        await keys(pilot, "enter")
        await type_in(pilot, PIN)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert "Votre commande n°7 est prête" in screen_text(app)  # the news, shown
        focused(app)
