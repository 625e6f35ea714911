"""The visitor's still at the kiosk, on the real service, with the camera given as an image file:
where the site asks, check-in goes through the photo; the visitor sees it before keeping it, may
go on without one where the site allows it, and is sent to reception when the camera gives
nothing and the site requires one."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import Button, OptionList

from kiosk.photo import STILL_SIZE, decode_still, encode_still
from kiosk.screens.notifications import NotificationsScreen
from kiosk.screens.reception import ReceptionScreen
from kiosk.screens.visitor_badge import VisitorBadgeScreen
from kiosk.screens.visitor_photo import StillScreen, VisitorPhotoScreen
from kiosk.screens.visitor_visit import VisitorVisitScreen
from kiosk.widgets.photo_view import PhotoView
from kiosk_server.clock import ManualClock
from kiosk_server.models import Site, VisitorPhoto
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
from tests.terminal.conftest import SIZE, KioskFactory, screen_text, settle, wait_until
from tests.terminal.test_scan_screen import camera
from tests.terminal.test_visitor_checkin import accept_and_check_in, type_code
from tests.terminal.visits_ui_support import sign_in


def portrait(path: Path) -> Path:
    """What a webcam sees of a visitor: a dark head on a light wall, 640×480."""
    frame = np.full((480, 640, 3), 200, dtype=np.uint8)
    cv2.ellipse(frame, (320, 240), (110, 150), 0, 0, 360, (40, 40, 40), -1)
    assert cv2.imwrite(str(path), frame)
    return path


async def kept_photos(factory: Factory) -> list[bytes]:
    async with factory.session_factory() as session:
        return [row.jpeg for row in await session.scalars(select(VisitorPhoto))]


async def _to_photo(pilot: Pilot[Any], factory: Factory) -> VisitorPhotoScreen:
    code = await invitation_code(factory, "lea@example.com")
    await type_code(pilot, code, "Dupont")
    assert isinstance(pilot.app.screen, VisitorVisitScreen), screen_text(pilot.app)  # type: ignore[arg-type]
    await accept_and_check_in(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, VisitorPhotoScreen), type(screen)
    return screen


@pytest.mark.parametrize("size", [(80, 24), SIZE])
async def test_the_visitor_takes_sees_and_keeps_their_photo(
    size: tuple[int, int],
    make_kiosk: KioskFactory,
    people: People,
    factory: Factory,
    site: Site,
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    await set_site_settings(factory, site, visitor_photo="optional")
    await people.approved()
    set_local(clock, DAY, "14:05")
    app = make_kiosk(camera=camera(portrait(tmp_path / "visitor.png")))
    async with app.run_test(size=size) as pilot:
        photo = await _to_photo(pilot, factory)
        assert "Regardez la caméra" in screen_text(app)
        await pilot.click("#photo-take")
        await wait_until(pilot, lambda: photo.jpeg is not None)
        await settle(pilot)
        assert photo.query_one(PhotoView).pixels is not None
        assert "Cette photo vous convient" in screen_text(app)
        for button in photo.query(Button):  # the photo and every button fit the terminal
            if button.display:
                assert photo.region.contains_region(button.region), button.id
        await pilot.click("#photo-use")
        await settle(pilot)
        assert isinstance(app.screen, VisitorBadgeScreen), screen_text(app)

    (kept,) = await kept_photos(factory)
    pixels = decode_still(kept)
    assert pixels is not None
    height, width = pixels.shape
    assert (width, height) == STILL_SIZE
    # The visitor's picture: a dark head in the middle of a light wall.
    assert pixels[120, 160] < 90
    assert pixels[10, 10] > 170


async def test_where_the_site_allows_it_the_visitor_goes_on_without(
    make_kiosk: KioskFactory,
    people: People,
    factory: Factory,
    site: Site,
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    await set_site_settings(factory, site, visitor_photo="optional")
    await people.approved()
    set_local(clock, DAY, "14:05")
    app = make_kiosk(camera=camera(portrait(tmp_path / "visitor.png")))
    async with app.run_test(size=SIZE) as pilot:
        await _to_photo(pilot, factory)
        await pilot.click("#photo-skip")
        await settle(pilot)
        assert isinstance(app.screen, VisitorBadgeScreen), screen_text(app)
    assert await kept_photos(factory) == []


async def test_a_required_photo_with_no_camera_sends_the_visitor_to_reception(
    make_kiosk: KioskFactory,
    people: People,
    factory: Factory,
    site: Site,
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    await set_site_settings(factory, site, visitor_photo="required")
    await people.approved()
    set_local(clock, DAY, "14:05")
    app = make_kiosk(camera=camera(tmp_path / "no-camera.png"))
    async with app.run_test(size=SIZE) as pilot:
        photo = await _to_photo(pilot, factory)
        assert not photo.query("#photo-skip")  # no way round it
        await pilot.click("#photo-take")
        await wait_until(pilot, lambda: not photo.taking)
        await settle(pilot)
        assert "vous adresser à l'accueil" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, VisitorVisitScreen)
    assert await kept_photos(factory) == []
    day = (await people.desk_get("/v1/reception/visits")).json()
    assert day["on_site"] == []


async def test_the_host_and_the_desk_see_the_photo(
    make_kiosk: KioskFactory,
    people: People,
    factory: Factory,
    site: Site,
    clock: ManualClock,
) -> None:
    await set_site_settings(factory, site, visitor_photo="optional")
    approved = await people.approved()
    visitor_id = approved["visitors"][0]["id"]
    set_local(clock, DAY, "14:05")
    frame = np.full((480, 640), 200, dtype=np.uint8)
    cv2.ellipse(frame, (320, 240), (110, 150), 0, 0, 360, 40, -1)
    token = await invitation_token(factory, visitor_id)
    checked = await people.kiosk.post(
        "/v1/visitor-desk/check-in",
        json={
            "token": token,
            "rules_accepted": True,
            "photo": base64.b64encode(encode_still(frame)).decode(),
        },
    )
    assert checked.status_code == 200, checked.text

    app = make_kiosk()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "H1")
        await pilot.click("#notifications")
        await settle(pilot)
        inbox = app.screen
        assert isinstance(inbox, NotificationsScreen)
        options = inbox.query_one("#notification-list", OptionList)
        arrival = next(
            i for i, item in enumerate(inbox.items or []) if item.kind == "visitor_arrived"
        )
        options.highlighted = arrival
        await pilot.press("enter")
        await settle(pilot)
        await pilot.click("#notification-photo")
        await settle(pilot)
        assert isinstance(app.screen, StillScreen), screen_text(app)
        seen = app.screen.query_one(PhotoView).pixels
        assert seen is not None and seen[120, 160] < 90 < seen[5, 5]
        assert "Léa Dupont" in screen_text(app)

    app = make_kiosk()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "R1")
        await pilot.click("#reception")
        await settle(pilot)
        desk = app.screen
        assert isinstance(desk, ReceptionScreen)
        await pilot.click("#list-on_site")
        await settle(pilot)
        desk.query_one("#reception-table").focus()
        await pilot.click("#photo")
        await settle(pilot)
        assert isinstance(app.screen, StillScreen), screen_text(app)
        assert app.screen.query_one(PhotoView).pixels is not None
