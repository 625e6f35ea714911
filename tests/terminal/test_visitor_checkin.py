"""Visitors at the kiosk, on the real service, with the real scanner reading video files: an
invitation scanned or typed, the visit and its rules, check-in and the visitor badge (printed or
on screen), check-out by scanning the badge, calm messages for every refusal, walk-ins waiting
for their host, and nothing of a visitor left once the kiosk is back at welcome."""

from __future__ import annotations

import datetime as dt
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from kiosk.app import KioskApp
from kiosk.screens.visitor_badge import VisitorBadgeScreen
from kiosk.screens.visitor_code import VisitorCodeScreen, code_problem, normalise_code
from kiosk.screens.visitor_scan import VisitorScanScreen
from kiosk.screens.visitor_visit import VisitorVisitScreen
from kiosk.screens.visitor_walk_in import VisitorWalkInScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk.settings import IdleSettings, PrinterSettings
from kiosk.widgets.qr_view import QrView
from kiosk.widgets.tick_box import TickBox
from kiosk_server.clock import ManualClock
from kiosk_server.models import Notification, Site, Visit, VisitVisitor
from tests.factories import Factory
from tests.server.visits_support import (
    DAY,
    People,
    invitation_code,
    invitation_token,
    people_fixture,  # noqa: F401 - the `people` fixture
    set_local,
    set_site_settings,
)
from tests.terminal.conftest import (
    SIZE,
    KioskFactory,
    all_text,
    screen_text,
    settle,
    type_text,
    wait_until,
)
from tests.terminal.test_scan_screen import camera, make_video

MARKUP_FIRST = "[bold red]Léa[/]\x1b[2J"
MARKUP_COMPANY = "[@click=app.quit]ACME[/]\x9b31m"


async def open_visitor(pilot: Pilot[Any]) -> None:
    """From the welcome screen to the visitor's choices."""
    await settle(pilot)
    await pilot.click("#visitor")
    await settle(pilot)


async def type_code(pilot: Pilot[Any], code: str, last_name: str) -> None:
    """Choose "type my code", type both fields and continue."""
    await open_visitor(pilot)
    await pilot.click("#visitor-code")
    await settle(pilot)
    await enter_code(pilot, code, last_name)


async def enter_code(pilot: Pilot[Any], code: str, last_name: str) -> None:
    app = pilot.app
    code_input = app.screen.query_one("#visitor-code-input")
    name_input = app.screen.query_one("#visitor-last-name")
    code_input.value = ""  # type: ignore[attr-defined]
    name_input.value = ""  # type: ignore[attr-defined]
    code_input.focus()
    await type_text(pilot, code)
    await pilot.press("enter")  # on to the last name
    await type_text(pilot, last_name)
    await pilot.press("enter")
    await settle(pilot)


async def accept_and_check_in(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app.screen, VisitorVisitScreen)
    screen = app.screen
    accept = screen.query_one("#visitor-accept", TickBox)
    # Not before the rules are accepted: pressed, Check in says so (it said nothing).
    assert "✓" not in accept.render().plain
    await pilot.click("#visitor-check-in")
    await pilot.pause()
    assert isinstance(app.screen, VisitorVisitScreen)
    assert "acceptez d'abord le règlement du site" in screen_text(screen.kiosk)
    await pilot.click("#visitor-accept")
    await pilot.pause()
    assert "✓" in accept.render().plain  # ticked: another shape
    await pilot.click("#visitor-check-in")
    await settle(pilot)


async def notifications(factory: Factory) -> list[Notification]:
    """The host's notices of their visitors' arrivals (reception's approval is told too)."""
    async with factory.session_factory() as session:
        arrivals = select(Notification).where(Notification.kind == "visitor_arrived")
        return list((await session.scalars(arrivals)).all())


async def visitor_row(factory: Factory, visitor_id: int) -> VisitVisitor:
    async with factory.session_factory() as session:
        row = await session.get(VisitVisitor, visitor_id)
        assert row is not None
        return row


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_a_scanned_invitation_checks_in_and_the_scanned_badge_checks_out(
    make_kiosk: KioskFactory, people: People, factory: Factory, clock: ManualClock, tmp_path: Path
) -> None:
    approved = await people.approved()
    visitor_id = approved["visitors"][0]["id"]
    token = await invitation_token(factory, visitor_id)
    set_local(clock, DAY, "13:50")
    video = make_video(tmp_path / "invitation.avi", [(None, 0.3), (token, 2.0), (None, 0.3)])
    app = make_kiosk(camera=camera(video))
    async with app.run_test(size=SIZE) as pilot:
        await open_visitor(pilot)
        await pilot.click("#visitor-scan")
        await wait_until(pilot, lambda: isinstance(app.screen, VisitorVisitScreen))
        await settle(pilot)
        shown = screen_text(app)
        for expected in ("Léa Dupont", "ACME", "Hélène Girard", "14:00", "15:00", "Bâtiment B"):
            assert expected in shown
        assert "Règlement du site" in shown
        assert "Portez votre badge visiteur de façon visible" in shown
        await accept_and_check_in(pilot)

        badge_screen = app.screen
        assert isinstance(badge_screen, VisitorBadgeScreen)
        qr = badge_screen.query_one(QrView)
        # No printer here: the badge is on screen, its QR checks the visitor out.
        assert qr.payload == token
        assert "Scannez ce QR code en partant" in screen_text(app)
        assert "Léa Dupont" in screen_text(app)
        # The host was told, in the same transaction as the check-in.
        (notice,) = await notifications(factory)
        assert notice.kind == "visitor_arrived"
        assert (await visitor_row(factory, visitor_id)).checked_in_at is not None

        await pilot.click("#finish")
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)

        # Leaving: the badge's QR, as a camera sees it.
        leaving = make_video(tmp_path / "badge.avi", [(None, 0.3), (qr.payload, 2.0)])
        app.settings = replace(app.settings, camera=camera(leaving))
        set_local(clock, DAY, "16:30")
        await open_visitor(pilot)
        await pilot.click("#visitor-scan")
        await wait_until(pilot, lambda: isinstance(app.screen, VisitorVisitScreen))
        await settle(pilot)
        assert "Vous partez ?" in screen_text(app)
        await pilot.click("#visitor-check-out")
        await settle(pilot)
        assert "Au revoir, merci de votre visite" in screen_text(app)
        assert (await visitor_row(factory, visitor_id)).checked_out_at is not None
        await pilot.click("#finish")
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)


async def test_other_codes_at_the_visitor_scan_get_calm_messages(
    make_kiosk: KioskFactory, people: People, tmp_path: Path
) -> None:
    video = make_video(
        tmp_path / "codes.avi",
        # Each message stays until the next code replaces it: long enough for a busy machine.
        [(None, 0.2), ("C1" + "A" * 36, 1.5), (None, 0.2), ("V1NOTAREALTOKEN", 1.5), (None, 5)],
    )
    app = make_kiosk(camera=camera(video))
    async with app.run_test(size=SIZE) as pilot:
        await open_visitor(pilot)
        await pilot.click("#visitor-scan")
        await wait_until(pilot, lambda: "QR code de connexion d'un salarié" in screen_text(app))
        await wait_until(pilot, lambda: "Cette invitation n'a pas été reconnue" in screen_text(app))
        assert isinstance(app.screen, VisitorScanScreen)
        assert "V1NOTAREALTOKEN" not in screen_text(app)


async def test_a_typed_code_and_last_name_check_in(
    make_kiosk: KioskFactory, people: People, factory: Factory, clock: ManualClock
) -> None:
    await people.approved()
    code = await invitation_code(factory, "lea@example.com")
    set_local(clock, DAY, "14:05")
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        # Lower case, a dash and spaces, as people type codes: all accepted.
        await type_code(pilot, f"{code[:3].lower()}- {code[3:]}", "dupont")
        assert isinstance(app.screen, VisitorVisitScreen), screen_text(app)
        await accept_and_check_in(pilot)
        assert isinstance(app.screen, VisitorBadgeScreen)
        assert "Hélène Girard" in screen_text(app)
        assert len(await notifications(factory)) == 1


def test_codes_are_normalised_and_checked_before_asking() -> None:
    assert normalise_code(" k7m-2qx ") == "K7M2QX"
    assert code_problem("K7M2QX") is None
    assert code_problem("K7M2Q") is not None
    assert code_problem("K7M2Q0") is not None  # no 0 in the alphabet


async def test_wrong_codes_get_a_message_then_the_terminal_is_throttled(
    make_kiosk: KioskFactory, people: People, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await set_site_settings(factory, site, terminal_throttle_failures=3)
    await people.approved()
    code = await invitation_code(factory, "lea@example.com")
    set_local(clock, DAY, "14:05")
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await open_visitor(pilot)
        await pilot.click("#visitor-code")
        await settle(pilot)
        code_input = app.screen.query_one("#visitor-code-input")
        # Enter on an empty code, or one that cannot be a code, says so at once, and the code
        # field keeps the focus for the correction.
        await pilot.press("enter")
        await pilot.pause()
        assert "Tapez le code de votre invitation" in screen_text(app)
        await type_text(pilot, "O0O0O0")
        await pilot.press("enter")
        await pilot.pause()
        assert "pas de 0, O, 1 ou I" in screen_text(app)
        assert app.screen.focused is code_input
        for wrong in ("ABCDEF", "GHJKLM", "NPQRST"):
            await enter_code(pilot, wrong, "Dupont")
            assert "Cette invitation n'a pas été reconnue" in screen_text(app)
        await enter_code(pilot, code, "Dupont")
        assert isinstance(app.screen, VisitorCodeScreen)
        assert "Trop de tentatives sur cette borne. Réessayez dans" in screen_text(app)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("tomorrow", "Votre visite n'est pas prévue à cette heure"),
        ("cancelled", "Cette visite a été annulée"),
    ],
)
async def test_a_visit_of_another_day_or_cancelled_gets_its_message(
    make_kiosk: KioskFactory,
    people: People,
    factory: Factory,
    clock: ManualClock,
    case: str,
    expected: str,
) -> None:
    first_day = DAY + dt.timedelta(days=1) if case == "tomorrow" else DAY
    approved = await people.approved(first_day=first_day.isoformat())
    code = await invitation_code(factory, "lea@example.com")
    if case == "cancelled":
        answer = await people.host.delete(
            f"/v1/me/visits/{approved['id']}", headers=people.host_headers
        )
        assert answer.status_code == 200, answer.text
    set_local(clock, DAY, "14:05")
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await type_code(pilot, code, "Dupont")
        assert isinstance(app.screen, VisitorCodeScreen)
        assert expected in screen_text(app)


async def test_markup_and_escapes_in_a_visitor_are_plain_text_on_screen_and_on_paper(
    make_kiosk: KioskFactory, people: People, factory: Factory, clock: ManualClock, tmp_path: Path
) -> None:
    approved = await people.approved()
    visitor_id = approved["visitors"][0]["id"]
    # The service refuses control characters at input; rows written before that rule (or by
    # an import) may still hold them: written here directly.
    async with factory.session_factory() as session:
        row = await session.get(VisitVisitor, visitor_id)
        assert row is not None
        row.first_name = MARKUP_FIRST
        row.company = MARKUP_COMPANY
        await session.commit()
    code = await invitation_code(factory, "lea@example.com")
    set_local(clock, DAY, "14:05")
    paper = tmp_path / "lp0"
    app = make_kiosk(printer=PrinterSettings(kind="file", path=paper))
    async with app.run_test(size=SIZE) as pilot:
        await type_code(pilot, code, "Dupont")
        for screen_type in (VisitorVisitScreen, VisitorBadgeScreen):
            assert isinstance(app.screen, screen_type)
            shown = screen_text(app)
            assert "[bold red]Léa[/] Dupont" in shown
            assert "[@click=app.quit]ACME[/]" in shown and "31m" not in shown
            assert "\x1b" not in shown and "\x9b" not in shown
            if screen_type is VisitorVisitScreen:
                await accept_and_check_in(pilot)
        # Printed: the QR is on paper, not on screen.
        assert not app.screen.query(QrView)
        assert "Votre badge s'imprime" in screen_text(app)
        printed = paper.read_bytes()
        assert b"[bold red]L\xe9a[/] Dupont" in printed
        assert b"[@click=app.quit]ACME[/]\n" in printed
        assert b"\x1b[2J" not in printed and b"\x9b" not in printed
        assert app.is_running


@pytest.mark.parametrize("kind", ["file", "network"])
async def test_a_printer_that_fails_gives_a_message_and_the_badge_on_screen(
    make_kiosk: KioskFactory,
    people: People,
    factory: Factory,
    clock: ManualClock,
    tmp_path: Path,
    kind: str,
) -> None:
    approved = await people.approved()
    token = await invitation_token(factory, approved["visitors"][0]["id"])
    code = await invitation_code(factory, "lea@example.com")
    set_local(clock, DAY, "14:05")
    if kind == "file":
        # Unplugged: the device file's directory is gone.
        printer = PrinterSettings(kind="file", path=tmp_path / "unplugged" / "lp0")
    else:
        printer = PrinterSettings(
            kind="network", host="127.0.0.1", port=closed_port(), timeout_seconds=1.0
        )
    app = make_kiosk(printer=printer)
    async with app.run_test(size=SIZE) as pilot:
        await type_code(pilot, code, "Dupont")
        await accept_and_check_in(pilot)
        assert isinstance(app.screen, VisitorBadgeScreen)
        assert "Le badge n'a pas pu être imprimé" in screen_text(app)
        assert app.screen.query_one(QrView).payload == token
        assert len(await notifications(factory)) == 1


async def test_a_walk_in_names_their_host_and_waits_for_approval(
    make_kiosk: KioskFactory,
    people: People,
    factory: Factory,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(VisitorWalkInScreen, "POLL_SECONDS", 0.1)
    set_local(clock, DAY, "11:00")
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await open_visitor(pilot)
        await pilot.click("#visitor-walk-in")
        await settle(pilot)
        assert isinstance(app.screen, VisitorWalkInScreen)
        await type_text(pilot, "Paul")
        await pilot.press("enter")
        await type_text(pilot, "Nguyen")
        await pilot.press("enter")
        await type_text(pilot, "Globex")
        await pilot.press("enter")
        # The first letters of the host's name offer the names that match, to pick from.
        await type_text(pilot, "hél")
        hosts = app.screen.query_one("#walk-in-hosts", OptionList)
        await wait_until(pilot, lambda: hosts.option_count == 1 and hosts.display)
        assert str(hosts.get_option_at_index(0).prompt) == "Hélène Girard"
        # Enter on what is only the beginning of a name sends nothing: it asks to pick.
        await pilot.press("enter")
        await settle(pilot)
        assert "Choisissez votre hôte dans la liste" in screen_text(app)
        assert app.focused is hosts
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("#walk-in-host", Input).value == "Hélène Girard"
        assert not hosts.display
        await pilot.press("enter")  # on "Ask my host", which has the focus now
        await wait_until(pilot, lambda: bool(app.screen.query("#walk-in-waiting")))
        assert "Hélène Girard" in screen_text(app) and "Patientez" in screen_text(app)
        async with factory.session_factory() as session:
            visit = (await session.scalars(select(Visit).where(Visit.walk_in))).one()
        approved = await people.host_post(f"/v1/me/visits/{visit.id}/approve")
        assert approved.status_code == 200, approved.text
        await wait_until(pilot, lambda: isinstance(app.screen, VisitorVisitScreen))
        await settle(pilot)
        assert "Paul Nguyen" in screen_text(app)
        await accept_and_check_in(pilot)
        assert isinstance(app.screen, VisitorBadgeScreen)


async def test_where_the_site_lists_nobody_the_walk_in_types_the_full_name(
    make_kiosk: KioskFactory, people: People, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await set_site_settings(factory, site, walk_in_host_search=False)
    set_local(clock, DAY, "11:00")
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await open_visitor(pilot)
        await pilot.click("#visitor-walk-in")
        await settle(pilot)
        for text in ("Paul", "Nguyen", "Globex"):
            await type_text(pilot, text)
            await pilot.press("enter")
        await type_text(pilot, "Hélène")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, VisitorWalkInScreen)
        await wait_until(pilot, lambda: "tels qu'ils s'écrivent" in screen_text(app))
        assert not screen.query_one("#walk-in-hosts", OptionList).display
        await pilot.press("enter")
        await settle(pilot)
        assert "Personne de ce nom n'a été trouvé" in screen_text(app)
        assert screen.stage == "form"
        host = screen.query_one("#walk-in-host", Input)
        assert app.focused is host
        host.value = ""
        await type_text(pilot, "helene GIRARD")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.stage == "waiting")
        assert "Hélène Girard" in screen_text(app)


async def test_a_walk_in_nobody_answers_is_sent_to_reception_after_the_sites_wait(
    make_kiosk: KioskFactory,
    people: People,
    factory: Factory,
    site: Site,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(VisitorWalkInScreen, "POLL_SECONDS", 0.1)
    await set_site_settings(factory, site, walk_in_wait_seconds=1)
    set_local(clock, DAY, "11:00")
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await open_visitor(pilot)
        await pilot.click("#visitor-walk-in")
        await settle(pilot)
        for text in ("Paul", "Nguyen", "Globex", "Hélène Girard"):
            await type_text(pilot, text)
            await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, VisitorWalkInScreen)
        await wait_until(pilot, lambda: screen.stage == "timed-out")
        assert screen.wait_seconds == 1
        text = screen_text(app)
        assert "Adressez-vous à l'accueil" in text
        assert "n'a pas encore répondu" in text


async def test_idle_on_a_visitor_screen_returns_to_welcome_and_forgets_the_visitor(
    make_kiosk: KioskFactory, people: People, factory: Factory, clock: ManualClock
) -> None:
    await people.approved()
    code = await invitation_code(factory, "lea@example.com")
    set_local(clock, DAY, "14:05")
    app: KioskApp = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await type_code(pilot, code, "Dupont")
        assert isinstance(app.screen, VisitorVisitScreen)
        # Tiny idle times only now: typing on a busy machine must not time out first.
        app.settings = replace(
            app.settings,
            idle=IdleSettings(
                default_seconds=600, countdown_seconds=1, typing_seconds=600, visitor_seconds=1
            ),
        )
        app.note_activity()
        await wait_until(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        await settle(pilot)
        everything = all_text(app)
        for trace in ("Dupont", "Léa", "Hélène", "Girard", "ACME", code):
            assert trace not in everything
        assert [type(screen) for screen in app.screen_stack] == [WelcomeScreen]
