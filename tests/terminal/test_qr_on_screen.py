"""Every screen that shows a QR shows one a phone can read, at 100×30 and at 80×24: the screen as
drawn is turned back into a picture from its half-blocks and read with the project's scanner
(tests/terminal/screen_picture.py). The top-up's payment link is the longest payload: the demo's
address, and a site's public address of forty characters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from kiosk.app import KioskApp
from kiosk.screens.badge import BadgeScreen
from kiosk.screens.top_up import TopUpScreen
from kiosk.screens.visitor_badge import VisitorBadgeScreen
from kiosk.widgets.qr_view import QrView
from kiosk_server.clock import ManualClock
from kiosk_server.models import Site
from kiosk_server.settings import ServerSettings
from tests.factories import Factory
from tests.server.top_up_support import sandbox_site_fixture
from tests.server.visits_support import (
    DAY,
    People,
    invitation_code,
    people_fixture,  # noqa: F401 - the `people` fixture
    set_local,
)
from tests.terminal.conftest import PIN, KioskFactory, settle, wait_until
from tests.terminal.screen_picture import codes_on_screen
from tests.terminal.test_tickets_screen import sign_in
from tests.terminal.test_visitor_checkin import accept_and_check_in, type_code

site = sandbox_site_fixture()

SIZES = [(100, 30), (80, 24)]
PUBLIC_ADDRESSES = ["http://127.0.0.1:41234", "https://kiosk.restaurant-lyon-part-dieu.fr"]


@pytest.fixture
def server_settings(server_settings: ServerSettings, request: pytest.FixtureRequest) -> Any:
    """The service's public address, which the payment link starts with, where a test gives
    one (`public_address`)."""
    address = getattr(request, "param", None)
    if address is None:
        return server_settings
    return server_settings.model_copy(update={"public_base_url": address})


def shown_payload(app: KioskApp, selector: str) -> str:
    payload = app.screen.query_one(selector, QrView).payload
    assert payload
    return payload


@pytest.mark.parametrize("server_settings", PUBLIC_ADDRESSES, indirect=True)
@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
async def test_the_payment_qr_reads_on_screen(
    make_kiosk: KioskFactory, factory: Factory, site: Site, size: tuple[int, int], tmp_path: Path
) -> None:
    await factory.account(site, "jeanne", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=size) as pilot:
        await sign_in(pilot)
        await pilot.click("#top-up")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TopUpScreen)
        await pilot.click("#preset-0")
        await settle(pilot)
        await pilot.click("#confirm")
        await wait_until(pilot, lambda: bool(screen.query("#top-up-qr")))
        await pilot.pause()
        assert codes_on_screen(app, tmp_path) == [shown_payload(app, "#top-up-qr")]


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
async def test_the_badge_qr_reads_on_screen(
    make_kiosk: KioskFactory, factory: Factory, site: Site, size: tuple[int, int], tmp_path: Path
) -> None:
    await factory.account(site, "jeanne", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=size) as pilot:
        await sign_in(pilot)
        await pilot.click("#badge")
        await settle(pilot)
        assert isinstance(app.screen, BadgeScreen)
        assert codes_on_screen(app, tmp_path) == [shown_payload(app, "#badge-qr")]


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
async def test_the_visitor_badge_qr_reads_on_screen(
    make_kiosk: KioskFactory,
    people: People,
    factory: Factory,
    clock: ManualClock,
    service_app: FastAPI,
    size: tuple[int, int],
    tmp_path: Path,
) -> None:
    await people.approved()
    code = await invitation_code(factory, "lea@example.com")
    set_local(clock, DAY, "14:05")
    app = make_kiosk()
    async with app.run_test(size=size) as pilot:
        await type_code(pilot, code, "Dupont")
        await accept_and_check_in(pilot)
        assert isinstance(app.screen, VisitorBadgeScreen)
        assert codes_on_screen(app, tmp_path) == [shown_payload(app, "#visitor-badge-qr")]
