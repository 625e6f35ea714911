"""The watchlist on the terminal, against the real service: reception adds and removes entries at
the desk; a listed visitor's check-in at the kiosk is held with words that only send them to
reception; the desk shows the hold, with the entry, and lets the visitor in or refuses entry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from textual.pilot import Pilot

from kiosk.screens.reception import ReceptionScreen
from kiosk.screens.visitor_visit import VisitorVisitScreen
from kiosk.screens.watchlist import HeldVisitorScreen, WatchlistScreen
from kiosk.widgets.visitor_table import VisitorTable
from kiosk_server.clock import ManualClock
from tests.factories import Factory
from tests.server.visits_support import (
    DAY,
    People,
    invitation_code,
    people_fixture,  # noqa: F401 - the `people` fixture
    set_local,
    visitor,
)
from tests.terminal.conftest import SIZE, KioskFactory, screen_text, settle, type_text
from tests.terminal.test_reception_screen import drawn, open_desk
from tests.terminal.test_visitor_checkin import accept_and_check_in, type_code
from tests.terminal.visits_ui_support import Staff, staff

__all__ = ["staff"]

REASON = "Accès interdit depuis le 3 mars"


async def open_watchlist(pilot: Pilot[Any]) -> WatchlistScreen:
    await open_desk(pilot)
    await pilot.click("#watchlist")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, WatchlistScreen)
    return screen


async def fill(pilot: Pilot[Any], field: str, text: str) -> None:
    widget = pilot.app.screen.query_one(field)
    widget.value = ""  # type: ignore[attr-defined]
    widget.focus()
    await type_text(pilot, text)


async def test_reception_adds_and_removes_a_watchlist_entry(
    make_kiosk: KioskFactory, staff: Staff
) -> None:
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_watchlist(pilot)
        empty = drawn(screen.query_one("#watchlist-table", VisitorTable))
        assert "Personne sur la liste de vigilance" in empty

        # Refused before anything is sent: no name, then a birth date that is not one.
        await pilot.click("#watchlist-add")
        await settle(pilot)
        assert "Saisissez le prénom et le nom" in screen_text(app)
        await fill(pilot, "#watchlist-name", "Éloïse D'Arc-Dupont")
        await fill(pilot, "#watchlist-born", "31/02/1980")
        await fill(pilot, "#watchlist-reason", REASON)
        await pilot.press("enter")
        await settle(pilot)
        assert "comme 24/12/1980" in screen_text(app)
        assert screen.entries == []

        await fill(pilot, "#watchlist-born", "03/02/1980")
        await pilot.click("#watchlist-add")
        await settle(pilot)
        text = screen_text(app)
        assert "Éloïse D'Arc-Dupont est sur la liste de vigilance" in text
        assert "Liste de vigilance — 1 personne" in text
        table = drawn(screen.query_one("#watchlist-table", VisitorTable))
        assert "03/02/1980" in table and REASON in table and "Rémi Accueil" in table
        (entry,) = (await staff.desk.watchlist()).entries
        assert entry.birth_date == dt.date(1980, 2, 3)

        # Removing takes a second press.
        screen.query_one("#watchlist-table").focus()
        await pilot.click("#watchlist-remove")
        await settle(pilot)
        assert "Appuyez de nouveau sur Retirer" in screen_text(app)
        assert len((await staff.desk.watchlist()).entries) == 1
        await pilot.pause(0.3)  # a person's second press (Textual drops one within 0.2 s)
        await pilot.click("#watchlist-remove")
        await settle(pilot)
        assert "n'est plus sur la liste de vigilance" in screen_text(app)
        assert (await staff.desk.watchlist()).entries == []

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ReceptionScreen)


async def test_a_held_check_in_is_decided_at_the_desk(
    make_kiosk: KioskFactory, staff: Staff
) -> None:
    await staff.desk.add_watchlist_entry("Éloïse D'Arc-Dupont", REASON, dt.date(1980, 2, 3))
    held = await staff.visit("ELOISE", "D'ARC-DUPONT", approve=True)
    refused = await staff.visit("Eloïse", "Darc-Dupont", "Globex", approve=True)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        desk = await open_desk(pilot)
        # Reception checks her in: the watchlist holds it, and the entry is shown.
        table = desk.query_one("#reception-table", VisitorTable)
        table.focus()
        while table.highlighted_key != held.visitors[0].id:
            await pilot.press("down")
        await pilot.click("#check-in")
        await settle(pilot)
        assert isinstance(app.screen, HeldVisitorScreen), screen_text(app)
        text = screen_text(app)
        assert "Arrivée retenue" in text and REASON in text and "03/02/1980" in text
        await pilot.click("#held-release")
        await settle(pilot)
        assert isinstance(app.screen, ReceptionScreen)
        assert "autorisé·e à entrer" in screen_text(app)
        assert desk.day is not None
        assert [r.visitor_id for r in desk.day.on_site] == [held.visitors[0].id]

        # The other is held too; reception refuses: the row says so, in words.
        await pilot.click("#check-in")  # the cursor is on the one left
        await settle(pilot)
        assert isinstance(app.screen, HeldVisitorScreen)
        await pilot.click("#held-refuse")
        await settle(pilot)
        assert "Entrée refusée à" in screen_text(app)
        assert "Entrée refusée" in drawn(table)
        assert desk.day is not None
        (row,) = desk.day.expected
        assert row.visitor_id == refused.visitors[0].id and row.refused


async def test_a_listed_visitor_at_the_kiosk_is_only_sent_to_reception(
    make_kiosk: KioskFactory, people: People, factory: Factory, clock: ManualClock
) -> None:
    added = await people.desk_post(
        "/v1/reception/watchlist",
        json={"full_name": "Léa Dupont", "reason": REASON},
    )
    assert added.status_code == 201, added.text
    await people.approved(visitors=[visitor("LEA", "dupont")])
    code = await invitation_code(factory, "lea@example.com")
    set_local(clock, DAY, "14:05")
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await type_code(pilot, code, "Dupont")
        assert isinstance(app.screen, VisitorVisitScreen), screen_text(app)
        await accept_and_check_in(pilot)
        assert isinstance(app.screen, VisitorVisitScreen)
        text = screen_text(app)
        assert "présenter à l'accueil pour finaliser votre arrivée" in text
        for hidden in ("vigilance", "interdit", "watchlist"):
            assert hidden not in text.lower()
