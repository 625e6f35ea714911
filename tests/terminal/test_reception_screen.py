"""The reception desk on the terminal, against the real service: today's lists change as
visitors are approved, checked in and out through it; search by company; untrusted text stays
plain; the desk locks when idle and its user's PIN opens it again, ending the session it had
before on the service; a periodic refresh waits while the receptionist types."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from textual.pilot import Pilot

from kiosk.api.client import KioskClient
from kiosk.app import KioskApp, create_app
from kiosk.screens import reception as reception_screen
from kiosk.screens.desk_lock import DeskLockScreen
from kiosk.screens.home import HomeScreen
from kiosk.screens.reception import ReceptionScreen
from kiosk.screens.visitor_badge import DeskVisitorBadgeScreen
from kiosk.settings import IdleSettings, KioskSettings
from kiosk.widgets.qr_view import QrView
from kiosk.widgets.visitor_table import VisitorTable
from tests.conftest import BASE_URL
from tests.factories import EnrolledDevice
from tests.terminal.conftest import (
    CALM_IDLE,
    PIN,
    SIZE,
    KioskFactory,
    screen_text,
    settle,
    type_text,
    wait_until,
)
from tests.terminal.visits_ui_support import Staff, sign_in, staff

__all__ = ["staff"]

MARKUP_NAME = "[b]Léa[/b]"
MARKUP_COMPANY = "[@click=app.quit]X[/]"


async def open_desk(pilot: Pilot[Any]) -> ReceptionScreen:
    await sign_in(pilot, "R1")
    await pilot.click("#reception")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReceptionScreen)
    return screen


def drawn(table: VisitorTable) -> str:
    """The lines the table draws on the terminal."""
    return "\n".join(table.render_line(y).text for y in range(table.size.height))


def shown_names(screen: ReceptionScreen) -> list[str]:
    table = screen.query_one("#reception-table", VisitorTable)
    return [row.cells[0] for row in table.shown]


async def search(pilot: Pilot[Any], text: str) -> None:
    search_box = pilot.app.screen.query_one("#reception-search")
    search_box.focus()
    await pilot.press("ctrl+a", "ctrl+k")  # clear what was typed
    await type_text(pilot, text)
    await pilot.pause()


async def test_lists_change_as_visitors_come_and_go(make_kiosk: KioskFactory, staff: Staff) -> None:
    await staff.visit("Léa", "Dupont", "ACME")  # requested: to approve
    await staff.visit("Marc", "Durand", "Globex", approve=True)
    await staff.visit("Zoé", "Martin", "Initech", approve=True, check_in=True)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        desk = await open_desk(pilot)
        assert sorted(shown_names(desk)) == ["Léa Dupont", "Marc Durand"]
        text = screen_text(app)
        assert "Attendus (2)" in text and "Sur site (1)" in text and "Partis (0)" in text
        assert "À approuver" in drawn(desk.query_one(VisitorTable))

        # Search by company (case and accents ignored), then approve the pending request.
        await search(pilot, "acme")
        assert shown_names(desk) == ["Léa Dupont"]
        await pilot.click("#approve")
        await settle(pilot)
        assert "La visite est approuvée" in screen_text(app)
        (row,) = [r for r in desk.day.expected if r.last_name == "Dupont"] if desk.day else []
        assert row.state == "approved"

        # Check her in: expected → on site.
        await pilot.click("#check-in")
        await settle(pilot)
        assert "Léa Dupont est enregistrée" in screen_text(app) or "Léa Dupont" in screen_text(app)
        assert desk.day is not None
        assert [r.last_name for r in desk.day.expected] == ["Durand"]
        assert sorted(r.last_name for r in desk.day.on_site) == ["Dupont", "Martin"]

        # On the on-site list, check her out: on site → left.
        await pilot.click("#list-on_site")
        await pilot.pause()
        assert shown_names(desk) == ["Léa Dupont"]  # the search still applies
        await pilot.click("#check-out")
        await settle(pilot)
        assert [r.last_name for r in desk.day.on_site] == ["Martin"]
        assert [r.last_name for r in desk.day.left] == ["Dupont"]
        await pilot.click("#list-left")
        await pilot.pause()
        assert shown_names(desk) == ["Léa Dupont"]
        assert "Partis (1)" in screen_text(app)

        # The service agrees.
    answer = await staff.desk.reception_day()
    assert [r.last_name for r in answer.left] == ["Dupont"]


async def test_rejecting_a_request_with_a_reason(make_kiosk: KioskFactory, staff: Staff) -> None:
    visit = await staff.visit("Léa", "Dupont")
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await open_desk(pilot)
        await pilot.click("#reject")
        await settle(pilot)
        await type_text(pilot, "Salle indisponible")
        await pilot.press("enter")
        await settle(pilot)
        assert "La demande est refusée" in screen_text(app)
    detail = await staff.host.visit(visit.id)
    assert detail.state == "rejected"
    assert detail.rejection_reason == "Salle indisponible"


async def test_markup_in_names_is_shown_as_plain_text(
    make_kiosk: KioskFactory, staff: Staff
) -> None:
    await staff.visit(MARKUP_NAME, "Dupont", MARKUP_COMPANY, approve=True)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        desk = await open_desk(pilot)
        table = desk.query_one("#reception-table", VisitorTable)
        lines = drawn(table)
        assert "[b]Léa[/b] Dupont" in lines
        assert MARKUP_COMPANY in lines
        # The click action in the name did not run: the app is still there, on the desk.
        await pilot.click("#reception-table", offset=(26, 1))
        await settle(pilot)
        assert isinstance(app.screen, ReceptionScreen)


async def test_walk_in_registered_at_the_desk(make_kiosk: KioskFactory, staff: Staff) -> None:
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        desk = await open_desk(pilot)
        await pilot.click("#walk-in")
        await settle(pilot)
        for value in ("Paul", "Petit", "Umbrella", "paul@example.com", ""):
            await type_text(pilot, value)
            await pilot.press("tab")
        await type_text(pilot, "Helene Girard")
        await pilot.click("#register")
        await settle(pilot)
        assert isinstance(app.screen, ReceptionScreen)
        assert "Paul Petit" in screen_text(app)
        assert desk.day is not None
        (row,) = desk.day.expected
        assert (row.last_name, row.host_name, row.walk_in) == ("Petit", "Hélène Girard", True)


async def test_the_desk_locks_when_idle_and_the_pin_opens_it(
    make_kiosk: KioskFactory, staff: Staff
) -> None:
    await staff.visit("Léa", "Dupont", approve=True)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await open_desk(pilot)
        assert isinstance(app, KioskApp)
        app.settings = replace(
            app.settings, idle=IdleSettings(default_seconds=1, countdown_seconds=20)
        )
        app.note_activity()
        await wait_until(pilot, lambda: isinstance(app.screen, DeskLockScreen))
        await pilot.pause()
        text = screen_text(app)
        assert "verrouillé" in text
        assert "Dupont" not in text
        assert app.session is not None and app.session.name == "Rémi Accueil"

        await type_text(pilot, "000000")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DeskLockScreen)
        assert "Code PIN incorrect" in screen_text(app)

        await type_text(pilot, PIN)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReceptionScreen)
        assert "Léa Dupont" in [row.cells[0] for row in app.screen.query_one(VisitorTable).shown]
        # Locking is not signing out: the person is still signed in, home is under the desk.
        assert any(isinstance(screen, HomeScreen) for screen in app.screen_stack)


class TokenRecorder(httpx.ASGITransport):
    """The transport into the service, noting each person's token the terminal sends (as
    anyone watching the wire could)."""

    def __init__(self, app: FastAPI) -> None:
        super().__init__(app=app, raise_app_exceptions=False)
        self.tokens: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token and token not in self.tokens:
            self.tokens.append(token)
        return await super().handle_async_request(request)


async def desk_answer(service_app: FastAPI, terminal: EnrolledDevice, token: str) -> httpx.Response:
    """`GET /v1/reception/visits` with `token`, as another program would send it."""
    transport = httpx.ASGITransport(app=service_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        return await http.get(
            "/v1/reception/visits",
            headers={"X-Device-Key": terminal.key, "Authorization": f"Bearer {token}"},
        )


async def test_unlocking_the_desk_ends_its_previous_session(
    service_app: FastAPI, terminal: EnrolledDevice, staff: Staff
) -> None:
    await staff.visit("Léa", "Dupont", approve=True)
    recorder = TokenRecorder(service_app)
    settings = KioskSettings(
        server_url=BASE_URL, device_key=terminal.key, language="fr", idle=CALM_IDLE
    )
    app = create_app(
        settings, client_factory=lambda: KioskClient(BASE_URL, terminal.key, transport=recorder)
    )
    async with app.run_test(size=SIZE) as pilot:
        await open_desk(pilot)
        (before_lock,) = recorder.tokens
        app.settings = replace(
            app.settings, idle=IdleSettings(default_seconds=1, countdown_seconds=20)
        )
        app.note_activity()
        await wait_until(pilot, lambda: isinstance(app.screen, DeskLockScreen))

        # A wrong PIN ends nothing: the desk's session is still the one it had.
        await type_text(pilot, "000000")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DeskLockScreen)
        assert (await desk_answer(service_app, terminal, before_lock)).status_code == 200

        await type_text(pilot, PIN)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReceptionScreen)
        refused = await desk_answer(service_app, terminal, before_lock)
        assert refused.status_code == 401
        assert refused.json()["code"] == "session-invalid"

        # The desk works on its new session: a refresh shows a visitor declared meanwhile.
        await staff.visit("Marc", "Durand", approve=True)
        await pilot.press("f5")
        await settle(pilot)
        assert sorted(shown_names(app.screen)) == ["Léa Dupont", "Marc Durand"]
        assert len(recorder.tokens) == 2
        after_unlock = recorder.tokens[-1]
        assert (await desk_answer(service_app, terminal, after_unlock)).status_code == 200


async def test_signing_out_of_a_locked_desk_ends_its_session(
    service_app: FastAPI, terminal: EnrolledDevice, staff: Staff
) -> None:
    recorder = TokenRecorder(service_app)
    settings = KioskSettings(
        server_url=BASE_URL, device_key=terminal.key, language="fr", idle=CALM_IDLE
    )
    app = create_app(
        settings, client_factory=lambda: KioskClient(BASE_URL, terminal.key, transport=recorder)
    )
    async with app.run_test(size=SIZE) as pilot:
        await open_desk(pilot)
        (token,) = recorder.tokens
        await app.push_screen(DeskLockScreen())
        await type_text(pilot, "000000")  # A wrong PIN first: the lock holds the session.
        await pilot.press("enter")
        await settle(pilot)
        await pilot.click("#sign-out")
        await settle(pilot)
        assert not isinstance(app.screen, (DeskLockScreen, ReceptionScreen))
        assert app.session is None
        refused = await desk_answer(service_app, terminal, token)
        assert refused.status_code == 401


async def test_a_periodic_refresh_waits_while_the_receptionist_types(
    make_kiosk: KioskFactory, staff: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reception_screen, "TYPING_PAUSE_SECONDS", 0.5)
    await staff.visit("Léa", "Dupont", "ACME", approve=True)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        desk = await open_desk(pilot)
        await staff.visit("Marc", "Durand", "ACME", approve=True)
        await search(pilot, "acm")
        desk._tick()  # The refresh timer fires while she types.
        await settle(pilot)
        assert shown_names(desk) == ["Léa Dupont"]
        await type_text(pilot, "e")
        # She stops typing: the refresh comes.
        await wait_until(pilot, lambda: len(shown_names(desk)) == 2)
        await settle(pilot)
        assert sorted(shown_names(desk)) == ["Léa Dupont", "Marc Durand"]
        assert "Attendus (2)" in screen_text(app)


async def test_reprint_without_a_printer_shows_the_badge_on_screen(
    make_kiosk: KioskFactory, staff: Staff
) -> None:
    await staff.visit("Zoé", "Martin", "Initech", approve=True, check_in=True)
    app = make_kiosk()  # no printer set
    async with app.run_test(size=SIZE) as pilot:
        desk = await open_desk(pilot)
        await pilot.click("#list-on_site")
        await pilot.pause()
        await pilot.click("#reprint")
        await settle(pilot)
        badge = app.screen
        assert isinstance(badge, DeskVisitorBadgeScreen)
        assert "Zoé Martin" in screen_text(app)
        assert badge.query_one(QrView).payload == badge.badge.checkout_token
        await pilot.click("#finish")
        await settle(pilot)
        assert app.screen is desk  # back at the desk, still signed in
        assert app.session is not None


async def test_the_arrival_time_is_shown_whole(make_kiosk: KioskFactory, staff: Staff) -> None:
    await staff.visit("Zoé", "Martin", "Initech", approve=True, check_in=True)
    app = make_kiosk()
    async with app.run_test(size=(80, 24)) as pilot:
        desk = await open_desk(pilot)
        await pilot.click("#list-on_site")
        await pilot.pause()
        text = drawn(desk.query_one(VisitorTable))
        assert re.search(r"arrivé \d\d:\d\d", text), text
