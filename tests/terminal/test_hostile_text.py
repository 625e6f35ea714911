"""Hostile text on every screen that shows text from the service: Rich/Textual markup, ANSI and
OSC escapes, NUL, bidi overrides, right-to-left scripts, combining marks and 10,000 characters.

The service refuses control characters and over-long fields at its door (tests/server/
test_hostile_input.py); the rows here are written straight into its database, as an older
version or another tool could have left them, so that the kiosk's own defence is what is tested:
each screen is opened through the pilot as a person would, and what Textual draws is read back
cell by cell. Nothing is interpreted (no escape reaches the terminal, no click action or link is
made of the text), nothing crashes, and the layout holds (every button stays on the screen and
the person can go on and back).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Button

from kiosk.app import KioskApp
from kiosk.screens.account import AccountScreen
from kiosk.screens.desk_cash import DeskCashScreen
from kiosk.screens.help import HelpScreen
from kiosk.screens.home import HomeScreen
from kiosk.screens.notifications import NotificationsScreen
from kiosk.screens.order_new import OrderNewScreen
from kiosk.screens.personal_data import PersonalDataScreen
from kiosk.screens.reception import ReceptionScreen
from kiosk.screens.roll_call import RollCallScreen
from kiosk.screens.ticket_detail import TicketDetailScreen
from kiosk.screens.tickets import TicketsScreen
from kiosk.screens.visit_detail import VisitDetailScreen
from kiosk.screens.visits import VisitsScreen
from kiosk.screens.watchlist import WatchlistScreen
from kiosk.settings import DisplaySettings
from kiosk.text import FORBIDDEN
from kiosk_server.models import (
    Account,
    CatalogueItem,
    HelpEntry,
    Notification,
    Site,
    Visit,
    VisitVisitor,
    WatchlistEntry,
)
from tests.factories import Factory
from tests.terminal.conftest import PIN, KioskFactory, settle, wait_until
from tests.terminal.test_tickets_screen import sign_in

MARKUP = "[@click=app.quit]Q[/] [link=https://evil.example]L[/link] [b]"
"""Shown as these very characters: a click on it must not quit, and it is no link."""
ESCAPES = "\x1b[2J\x1b[31m\x1b]0;pwned\x07\x00\x9b1m"
"""Clear the screen, red, set the window title (OSC ... BEL), NUL, an 8-bit CSI."""
WORLD = "\u202eesrever\u202c مرحبا שלום Z\u0351\u0352a\u0300\u0301 👩\u200d💻"
"""A right-to-left override, Arabic and Hebrew, combining marks, an emoji sequence."""
HOSTILE = MARKUP + ESCAPES + WORLD
LONG = HOSTILE + " " + "W" * 10_000

SIZES = [(80, 24), (100, 30)]
START = dt.datetime(2026, 10, 20, 10, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 2)


async def seed(factory: Factory, site: Site) -> Account:
    """A reception person whose name, tickets, notifications, visit, catalogue and help are all
    hostile text."""
    person = await factory.account(site, "evil", name=LONG, pin=PIN, roles=["reception"])
    await factory.ticket_history(person, 3, start=START, every=dt.timedelta(days=1), place=LONG)
    now = factory.clock.now()
    async with factory.session_factory() as session, session.begin():
        session.add(
            CatalogueItem(
                site_id=site.id,
                code="EVIL",
                name=LONG,
                description=LONG + "\n" + HOSTILE,
                kind="product",
                price_cents=450,
                vat_rate_bp=1000,
                allergens=[],
                days=[],
                translations={"en": {"name": LONG, "description": LONG}},
            )
        )
        session.add(
            HelpEntry(
                site_id=site.id,
                position=0,
                topic="sign-in",
                texts={"fr": {"question": LONG, "answer": LONG + "\n\n" + HOSTILE}},
            )
        )
        for kind, data in (
            ("visitor_arrived", {"visitor_name": LONG}),
            ("something_new", {}),
        ):
            session.add(
                Notification(
                    site_id=site.id,
                    account_id=person.id,
                    kind=kind,
                    title=LONG,
                    body=LONG,
                    data=data,
                    created_at=now,
                )
            )
        visit = Visit(
            site_id=site.id,
            host_account_id=person.id,
            state="approved",
            first_day=DAY,
            last_day=DAY,
            arrival_from=dt.time(9),
            arrival_until=dt.time(15),
            reason=LONG,
            place=LONG,
            created_at=now,
            updated_at=now,
        )
        session.add(visit)
        session.add(
            WatchlistEntry(
                site_id=site.id,
                full_name=HOSTILE,
                reason=LONG[:500],
                added_by=HOSTILE,
                created_at=now,
            )
        )
        await session.flush()
        session.add(
            VisitVisitor(
                visit_id=visit.id,
                first_name=LONG,
                last_name=HOSTILE,
                company=LONG,
                email="evil@example.com",
            )
        )
    return person


def drawn(app: KioskApp, screen_type: type[Screen[Any]]) -> str:
    """The screen on top as Textual draws it, after checking cell by cell that nothing of the
    hostile text was interpreted and that the layout holds."""
    assert app.is_running
    screen = app.screen
    assert isinstance(screen, screen_type), type(screen)
    width, height = app.size
    strips = screen._compositor.render_strips()
    assert len(strips) == height
    lines: list[str] = []
    for strip in strips:
        assert strip.cell_length == width
        for segment in strip:
            leaked = set(segment.text) & FORBIDDEN
            assert not leaked, f"{sorted(map(ord, leaked))} drawn on {screen_type.__name__}"
            style = segment.style
            if style is not None:
                assert "quit" not in str(style.meta.get("@click", "")), segment
                assert style.link is None or "evil" not in style.link, segment
        lines.append("".join(segment.text for segment in strip))
    picture = "\n".join(lines)
    # The layout holds: every button the screen shows is whole and on the screen.
    for button in screen.query(Button):
        if button.display and button.visible and button.region:
            assert screen.region.contains_region(button.region), f"{button.id}:\n{picture}"
    return picture


def searched(screen: DeskCashScreen, query: str) -> bool:
    return screen.searched == query


async def go(pilot: Pilot[Any], selector: str) -> None:
    await pilot.click(selector)
    await settle(pilot)


async def back(pilot: Pilot[Any], to: type[Screen[Any]]) -> None:
    await pilot.press("escape")
    await settle(pilot)
    assert isinstance(pilot.app.screen, to), type(pilot.app.screen)


async def test_hostile_text_is_shown_as_text_on_every_screen(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await seed(factory, site)
    # Each size, then the accessible display (F2: larger elements) at the smallest one.
    runs = [(size, DisplaySettings()) for size in SIZES]
    runs.append(((80, 24), DisplaySettings(high_contrast=True, large_text=True)))
    for size, display in runs:
        app = make_kiosk(display=display)
        async with app.run_test(size=size) as pilot:
            app.clock = factory.clock.now
            await sign_in(pilot, "evil")
            assert "[@click=app.quit]Q[/]" in drawn(app, HomeScreen)

            await go(pilot, "#tickets")
            drawn(app, TicketsScreen)
            await pilot.press("down", "enter")
            await settle(pilot)
            assert "[@click=app.quit]Q[/]" in drawn(app, TicketDetailScreen)
            await back(pilot, TicketsScreen)
            await back(pilot, HomeScreen)

            await go(pilot, "#order")
            assert "[@click=app.quit]Q[/]" in drawn(app, OrderNewScreen)
            await back(pilot, HomeScreen)

            await go(pilot, "#notifications")
            drawn(app, NotificationsScreen)
            await pilot.press("enter")
            await settle(pilot)
            assert "[@click=app.quit]Q[/]" in drawn(app, NotificationsScreen)
            await back(pilot, HomeScreen)

            await go(pilot, "#visits")
            assert "[@click=app.quit]Q[/]" in drawn(app, VisitsScreen)
            await pilot.press("enter")
            await settle(pilot)
            assert "[@click=app.quit]Q[/]" in drawn(app, VisitDetailScreen)
            await back(pilot, VisitsScreen)
            await back(pilot, HomeScreen)

            await go(pilot, "#help")
            assert "[@click=app.quit]Q[/]" in drawn(app, HelpScreen)
            await back(pilot, HomeScreen)

            await go(pilot, "#account")
            await go(pilot, "#personal-data")
            assert "[@click=app.quit]Q[/]" in drawn(app, PersonalDataScreen)
            await back(pilot, AccountScreen)
            await back(pilot, HomeScreen)

            await go(pilot, "#reception")
            assert "[@click=app.q" in drawn(app, ReceptionScreen)
            await go(pilot, "#roll-call")
            drawn(app, RollCallScreen)
            await back(pilot, ReceptionScreen)
            await go(pilot, "#cash")
            cash = app.screen
            assert isinstance(cash, DeskCashScreen)
            await pilot.press(*"evil")
            await wait_until(pilot, functools.partial(searched, cash, "evil"))
            await pilot.press("enter")
            await settle(pilot)
            assert cash.person is not None
            assert "[@click=app.q" in drawn(app, DeskCashScreen)
            await back(pilot, ReceptionScreen)
            await go(pilot, "#watchlist")
            assert "[@click=app.q" in drawn(app, WatchlistScreen)
            await back(pilot, ReceptionScreen)
            await back(pilot, HomeScreen)
            assert app.is_running
