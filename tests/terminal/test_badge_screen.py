"""The badge screen on the real service: the QR drawn on screen reads back to a token a door
accepts, it changes at the step boundary, it survives a short outage only while valid, and the
name is plain text."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from rich.color import Color
from textual.pilot import Pilot
from textual.widgets import Static

from kiosk.api.client import KioskClient
from kiosk.app import KioskApp
from kiosk.badge import lines_to_modules
from kiosk.screens.badge import BadgeScreen
from kiosk.screens.home import HomeScreen
from kiosk.widgets.qr_view import QrView
from kiosk_server.clock import ManualClock
from kiosk_server.models import Site
from tests.conftest import device_client
from tests.factories import Factory
from tests.terminal.conftest import PIN, KioskFactory, screen_text, settle, wait_until

WHITE = Color.from_rgb(255, 255, 255)


async def _sign_in(pilot: Pilot[Any], identifier: str) -> None:
    """Signed in on the service through the app's own client (the sign-in screens have their
    own tests), and home shown."""
    app = pilot.app
    assert isinstance(app, KioskApp)
    await settle(pilot)
    me = await app.api().sign_in("CANTINE", identifier, PIN)
    app.open_session(me)
    await settle(pilot)
    assert isinstance(app.screen, HomeScreen)


def drawn_qr(app: KioskApp) -> list[str]:
    """The QR as the widget draws it: the cells drawn dark-on-light, line by line."""
    view = app.screen.query_one("#badge-qr", QrView)
    lines: list[str] = []
    for y in range(view.content_size.height):
        strip = view.render_line(y)
        cells = "".join(
            segment.text
            for segment in strip
            if segment.style is not None and segment.style.bgcolor == WHITE
        )
        if cells:
            lines.append(cells)
    return lines


def decode(lines: Sequence[str]) -> list[str]:
    """Read the drawn QR as a scanner would (zxing-cpp on a rasterised picture)."""
    zxingcpp = pytest.importorskip("zxingcpp")
    np = pytest.importorskip("numpy")
    modules = lines_to_modules(lines)
    picture = np.array([[0 if dark else 255 for dark in row] for row in modules], dtype=np.uint8)
    picture = np.kron(picture, np.ones((4, 4), dtype=np.uint8))
    return [result.text for result in zxingcpp.read_barcodes(picture)]


async def door_reads(service_app: FastAPI, door_key: str, token: str) -> httpx.Response:
    async with device_client(service_app, door_key) as door:
        return await door.post("/v1/badges/verify", json={"token": token})


NAME = "[@click=app.quit]Bob[/]"


async def test_the_badge_on_screen_opens_the_door(
    make_kiosk: KioskFactory, factory: Factory, site: Site, service_app: FastAPI
) -> None:
    await factory.account(site, "bob", name=NAME + "\x1b[31m", pin=PIN)
    door = await factory.device([site], role="door", name="Porte nord")
    app = make_kiosk()
    async with app.run_test(size=(80, 24)) as pilot:
        await _sign_in(pilot, "bob")
        await pilot.click("#badge")
        await settle(pilot)
        assert isinstance(app.screen, BadgeScreen)
        shown = screen_text(app)
        assert "Cantine Lumière" in shown
        assert "Actualisation dans" in shown
        # The name is data: shown exactly, escape sequence removed, and never run as markup.
        assert str(app.screen.query_one("#badge-name", Static).render()) == NAME
        await pilot.click("#badge-name", offset=(5, 0))
        await pilot.pause()
        assert app.is_running

        for size, width in (((80, 24), 33), ((120, 40), 66)):
            await pilot.resize_terminal(*size)
            await settle(pilot)
            lines = drawn_qr(app)
            # The whole code with its quiet zone: scale 1 at 80×24, 2 when there is room.
            assert len(lines[0]) == width
            assert len(lines) == (width + 1) // 2
            assert all(line[:4] == "    " for line in lines)
            # Nothing else is pushed off the screen by the code.
            assert app.screen.query_one("#badge-qr", QrView).region.height >= len(lines)
            assert app.screen.query_one("#back").region.bottom <= size[1]
            assert app.screen.query_one("#badge-countdown").region.bottom <= size[1]
            [token] = decode(lines)
            assert token.startswith("B1")
            answer = await door_reads(service_app, door.key, token)
            assert answer.status_code == 200, answer.text
            assert answer.json()["identifier"] == "bob"

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_a_new_token_at_the_step_boundary(
    make_kiosk: KioskFactory,
    factory: Factory,
    site: Site,
    service_app: FastAPI,
    clock: ManualClock,
) -> None:
    await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    door = await factory.device([site], role="door", name="Porte nord")
    # The terminal's clock and the service's agree, and both move only when told.
    terminal_time = [clock.now().timestamp()]

    def advance(seconds: float) -> None:
        clock.advance(seconds=seconds)
        terminal_time[0] += seconds

    app = make_kiosk()
    async with app.run_test(size=(80, 24)) as pilot:
        await _sign_in(pilot, "jeanne")
        screen = BadgeScreen(clock=lambda: terminal_time[0])
        await app.push_screen(screen)
        await settle(pilot)
        [first] = decode(drawn_qr(app))
        assert "Actualisation dans 30 s" in screen_text(app)

        advance(29)
        await wait_until(pilot, lambda: "Actualisation dans 1 s" in screen_text(app))
        await settle(pilot)
        assert decode(drawn_qr(app)) == [first]

        advance(1)  # the service's next step begins: the screen fetches on its own
        await wait_until(pilot, lambda: decode(drawn_qr(app)) != [first])
        await settle(pilot)
        [second] = decode(drawn_qr(app))
        assert "Actualisation dans 30 s" in screen_text(app)
        for token in (first, second):
            assert (await door_reads(service_app, door.key, token)).status_code == 200

        # A minute on, the first token no longer opens anything.
        advance(60)
        answer = await door_reads(service_app, door.key, first)
        assert answer.status_code == 410
        assert answer.json()["code"] == "badge-expired"


def _unreachable_client() -> KioskClient:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return KioskClient(f"http://127.0.0.1:{port}", "no-key", timeout=1.0, attempts=1)


async def test_an_outage_keeps_the_badge_only_while_it_is_valid(
    make_kiosk: KioskFactory, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    terminal_time = [clock.now().timestamp()]

    def advance(seconds: float) -> None:
        clock.advance(seconds=seconds)
        terminal_time[0] += seconds

    app = make_kiosk()
    async with app.run_test(size=(80, 24)) as pilot:
        await _sign_in(pilot, "jeanne")
        screen = BadgeScreen(clock=lambda: terminal_time[0])
        await app.push_screen(screen)
        await settle(pilot)
        [first] = decode(drawn_qr(app))

        # The service becomes unreachable.
        service_client, app.client = app.client, _unreachable_client()
        try:
            advance(30)
            await wait_until(pilot, lambda: "Reconnexion" in screen_text(app))
            await settle(pilot)
            assert decode(drawn_qr(app)) == [first]  # still accepted for one more step

            advance(30)  # the service would now refuse it: the QR goes blank
            await wait_until(pilot, lambda: drawn_qr(app) == [])
            assert "Votre badge ne peut pas être affiché" in screen_text(app)
            await settle(pilot)  # the try that failed is over before the service is back
        finally:
            unreachable, app.client = app.client, service_client
            assert unreachable is not None
            await unreachable.aclose()

        advance(3)  # the next try reaches the service again
        await wait_until(pilot, lambda: drawn_qr(app) != [])
        await settle(pilot)
        [again] = decode(drawn_qr(app))
        assert again != first
        assert "Votre badge ne peut pas être affiché" not in screen_text(app)
