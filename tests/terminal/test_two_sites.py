"""A terminal serving two sites. The person chose one (typed its solution code), then shows the
welcome-letter QR of an account of the other: the kiosk says the QR is for another site and
signs nobody in (it signed them in to the other site without a word). A visitor without an
invitation picks the site they visit by its name, never by a solution code."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from textual.widgets import Select

from kiosk.screens.identifier import IdentifierScreen
from kiosk.screens.scan import ScanScreen
from kiosk.screens.visitor_walk_in import VisitorWalkInScreen
from kiosk_server.models import Site, Visit
from tests.factories import EnrolledDevice, Factory
from tests.terminal.conftest import PIN, KioskFactory, screen_text, settle, type_text, wait_until
from tests.terminal.test_scan_screen import camera, connect_token, make_video


@pytest.fixture
async def nord(factory: Factory) -> Site:
    return await factory.site("NORD", name="Site Nord")


@pytest.fixture
async def terminal(factory: Factory, site: Site, nord: Site) -> EnrolledDevice:
    return await factory.device([site, nord], name="Borne hall")


async def test_a_letter_of_the_other_site_is_refused_with_a_message(
    make_kiosk: KioskFactory, factory: Factory, site: Site, nord: Site, tmp_path: Path
) -> None:
    await factory.account(site, "1001", name="Jeanne Martin", pin=PIN)
    elsewhere = await factory.account(nord, "1001", name="Noé Petit", pin=PIN)
    token = await connect_token(factory, nord, elsewhere)
    video = make_video(tmp_path / "letter.avi", [(None, 0.3), (token, 3.0), (None, 0.3)])
    app = make_kiosk(camera=camera(video))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await type_text(pilot, "CANTINE")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, IdentifierScreen)
        await pilot.click("#scan")
        await wait_until(pilot, lambda: "Ce QR code est celui d'un autre site" in screen_text(app))
        assert isinstance(app.screen, ScanScreen)
        assert app.session is None
        assert "Noé Petit" not in screen_text(app)


async def test_a_walk_in_picks_the_site_by_its_name(
    make_kiosk: KioskFactory, factory: Factory, site: Site, nord: Site
) -> None:
    await factory.account(site, "H1", name="Hélène Girard", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.click("#visitor")
        await settle(pilot)
        await pilot.click("#visitor-walk-in")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, VisitorWalkInScreen)
        choice = screen.query_one("#walk-in-site", Select)
        assert [str(prompt) for prompt, _ in choice._options[1:]] == [
            "Cantine Lumière",
            "Site Nord",
        ]
        assert "Code de la solution" not in screen_text(app)
        # The site comes first (the host is looked up on it); the visitor skips it.
        assert app.focused is choice
        await pilot.click("#walk-in-first-name")
        for text in ("Paul", "Nguyen", "Globex", "Hélène Girard"):
            await type_text(pilot, text)
            await pilot.press("enter")
        await settle(pilot)
        assert "Choisissez le site que vous visitez" in screen_text(app)
        choice.value = site.code
        await pilot.click("#walk-in-send")
        await settle(pilot)
        assert screen.stage == "waiting"
    async with factory.session_factory() as session:
        visit = (await session.scalars(select(Visit).where(Visit.walk_in))).one()
    assert visit.site_id == site.id
