"""The ticket history on the real service: newest first with month headers, the next pages
loaded as the person scrolls, and a ticket's lines and VAT summary."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList

from kiosk.app import KioskApp
from kiosk.format import format_month, format_when, site_zone
from kiosk.i18n import set_language
from kiosk.screens.home import HomeScreen
from kiosk.screens.ticket_detail import TicketDetailScreen
from kiosk.screens.tickets import TicketsScreen
from kiosk_server.models import Site
from tests.factories import Factory
from tests.terminal.conftest import PIN, SIZE, KioskFactory, screen_text, settle

START = dt.datetime(2026, 8, 20, 10, 0, tzinfo=dt.UTC)


async def sign_in(pilot: Pilot[Any], identifier: str = "jeanne") -> None:
    """Signed in through the app's own client (the sign-in screens have their own tests)."""
    app = pilot.app
    assert isinstance(app, KioskApp)
    await settle(pilot)
    me = await app.api().sign_in("CANTINE", identifier, PIN)
    app.open_session(me)
    await settle(pilot)
    assert isinstance(app.screen, HomeScreen)


def prompts(app: KioskApp) -> list[str]:
    ticket_list = app.screen.query_one("#ticket-list", OptionList)
    return [str(option.prompt) for option in ticket_list.options]


async def test_history_pages_months_and_detail(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    account = await factory.account(site, "jeanne", pin=PIN)
    # 75 tickets, one a day at 10:00 UTC from 20 August (12:00 in Paris, summer time) to
    # 2 November (11:00 in Paris, winter time): times are shown in the site's time zone.
    ids = await factory.ticket_history(account, 75, start=START, every=dt.timedelta(days=1))
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await pilot.click("#tickets")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketsScreen)
        rows = prompts(app)
        # The first page: the newest first, under its month's header.
        assert rows[0] == "novembre 2026"
        assert rows[1].startswith("2 nov., 11:00")
        assert "Self hall" in rows[1]
        assert "-9,70\xa0€" in rows[1]
        assert 30 <= len(screen.tickets) < 75
        assert "octobre 2026" in rows
        # Top-ups are marked as such and signed.
        top_up_row = next(row for row in rows if "Rechargement" in row)
        assert "+50,00\xa0€" in top_up_row
        # Scrolling to the end loads the next pages, until the oldest ticket.
        for _ in range(10):
            await pilot.press("end")
            await settle(pilot)
        assert len(screen.tickets) == 75
        assert screen.complete
        assert screen.pages_loaded == 3
        rows = prompts(app)
        assert [row for row in rows if row.endswith("2026") and " " in row] == [
            "novembre 2026",
            "octobre 2026",
            "septembre 2026",
            "août 2026",
        ]
        assert rows[-1].startswith("20 août, 12:00")
        assert [ticket.id for ticket in screen.tickets] == sorted(ids, reverse=True)
        assert "Fin de votre historique." in screen_text(app)
        # Back to the top: Enter opens the newest ticket.
        await pilot.press("home")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        text = screen_text(app)
        assert "Plat du jour" in text
        assert "8,50\xa0€" in text
        assert "Café" in text
        # VAT summary: 8.50 at 10 % is 7.73 + 0.77; 1.20 at 5.5 % is 1.14 + 0.06.
        assert "10 %" in text and "7,73\xa0€" in text and "0,77\xa0€" in text
        assert "5,5 %" in text and "1,14\xa0€" in text and "0,06\xa0€" in text
        assert "Total : 9,70\xa0€" in text
        # In French throughout, the headers of the lines and of the VAT summary too.
        for header in ("Article", "Qté", "Prix unit.", "Taux TVA", "Base HT", "TVA"):
            assert header in text
        for english in ("Item", "Qty", "Unit price", "VAT rate"):
            assert english not in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, TicketsScreen)


async def test_empty_history_says_so(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "jeanne", pin=PIN)
    app = make_kiosk(language="en")
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await pilot.click("#tickets")
        await settle(pilot)
        assert "No tickets yet." in screen_text(app)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_row_dates_read_as_babel_writes_them(language: str) -> None:
    # The rows spell dates from Babel's month names by hand (babel.dates is slow to load):
    # the same text as Babel's own `d MMM, HH:mm` and `LLLL y`, every month, across a DST change.
    from babel.dates import format_date, format_datetime

    zone = site_zone("Europe/Paris")
    set_language(language)
    try:
        for month in range(1, 13):
            for day, hour, minute in ((1, 0, 5), (28, 23, 59)):
                moment = dt.datetime(2026, month, day, hour, minute, tzinfo=dt.UTC)
                local = moment.astimezone(zone)
                assert format_when(moment, zone) == format_datetime(
                    local, "d MMM, HH:mm", locale=language
                )
                assert format_month(moment, zone) == format_date(
                    local.date(), "LLLL y", locale=language
                )
    finally:
        set_language("fr")
