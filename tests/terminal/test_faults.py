"""The kiosk against a real service over the network when the network fails: the service
served by uvicorn on loopback, reached through a proxy that the test stops, slows past the
kiosk's timeout, or has close the connection in the middle of an answer. On sign-in, badge,
top-up order and a visitor's check-in the person reads a calm message; a money request is sent again with the same
idempotency key until its answer is known, and never guessed (one order, one top-up, the
balance moved once); and the kiosk comes back by itself when the service does."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any, Literal

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from textual.pilot import Pilot
from textual.widgets import Digits

from kiosk.app import KioskApp, create_app
from kiosk.screens.badge import BadgeScreen
from kiosk.screens.confirm_money import ConfirmMoneyScreen
from kiosk.screens.home import HomeScreen
from kiosk.screens.order_new import OrderNewScreen
from kiosk.screens.pin import PinScreen
from kiosk.screens.visitor_badge import VisitorBadgeScreen
from kiosk.screens.visitor_visit import VisitorVisitScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk.settings import KioskSettings
from kiosk_server.clock import ManualClock
from kiosk_server.models import Account, IdempotencyKey, Order, Site, TopUp
from tests.factories import EnrolledDevice, Factory
from tests.server.orders_support import at_paris, load
from tests.server.top_up_support import SANDBOX_SETTINGS
from tests.server.visits_support import (
    DAY,
    People,
    invitation_code,
    people_fixture,  # noqa: F401 - the `people` fixture
    set_local,
)
from tests.terminal.conftest import CALM_IDLE, PIN, SIZE, screen_text, settle, type_text, wait_until
from tests.terminal.test_visitor_checkin import enter_code, notifications

UNREACHABLE = "Le service est injoignable. Réessayez dans un instant."
BADGE_RECONNECTING = "Votre badge ne peut pas être affiché pour le moment. Reconnexion…"
RETRYING = "Nous n'avons pas pu confirmer la demande ; nouvel essai…"
TIMEOUT = 0.5
"""The kiosk's timeout per request, in seconds, in these tests."""

Mode = Literal["through", "slow", "cut"]


class FaultyProxy:
    """A TCP proxy on loopback in front of the service: passes bytes `through`, answers `slow`
    (each part of an answer held back longer than the kiosk waits), or `cut` (the first bytes of
    an answer, then the connection closed). `stop()` refuses connections, as a stopped server
    does; `start()` opens the same port again."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.mode: Mode = "through"
        self.port = 0
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._open):
                writer.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            writer.close()
            return
        self._open.update((writer, up_writer))

        async def requests() -> None:
            while data := await reader.read(65536):
                up_writer.write(data)
                await up_writer.drain()

        async def answers() -> None:
            while data := await up_reader.read(65536):
                if self.mode == "slow":
                    await asyncio.sleep(TIMEOUT * 3)
                if self.mode == "cut":
                    writer.write(data[:20])
                    await writer.drain()
                    return
                writer.write(data)
                await writer.drain()

        with contextlib.suppress(OSError, asyncio.CancelledError):
            _done, pending = await asyncio.wait(
                [asyncio.create_task(requests()), asyncio.create_task(answers())],
                return_when=asyncio.FIRST_COMPLETED,
            )
            for task in pending:
                task.cancel()
        for stream in (writer, up_writer):
            self._open.discard(stream)
            stream.close()


@pytest.fixture(autouse=True)
def _retry_soon(monkeypatch: pytest.MonkeyPatch) -> None:
    # The kiosk's own waits before trying again (seconds in the field), shortened: connecting,
    # the badge, and a money request whose answer was lost (still several tries, so that the
    # test sees "retrying" before it lets the answers through).
    monkeypatch.setattr(KioskApp, "RECONNECT_SECONDS", (0.2,))
    monkeypatch.setattr("kiosk.screens.badge.RETRY_SECONDS", 0.3)
    monkeypatch.setattr("kiosk.api.retry.RETRY_DELAYS", (0.3,) * 10)


@pytest.fixture
async def live_service(service_app: FastAPI) -> AsyncIterator[int]:
    """The service served by uvicorn on a loopback port (in this event loop)."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(service_app, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await serving
        sock.close()


@pytest.fixture
async def proxy(live_service: int) -> AsyncIterator[FaultyProxy]:
    faulty = FaultyProxy(live_service)
    await faulty.start()
    try:
        yield faulty
    finally:
        await faulty.stop()


@pytest.fixture
async def site(factory: Factory) -> Site:
    """A site that takes top-ups (the sandbox provider) and sells from a catalogue."""
    return await factory.site("CANTINE", settings=dict(SANDBOX_SETTINGS))


@pytest.fixture
async def jeanne(factory: Factory, site: Site) -> Account:
    account = await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    await factory.ledger_entry(account, 5000)
    return account


def kiosk(proxy: FaultyProxy, terminal: EnrolledDevice) -> KioskApp:
    """The kiosk as a site runs it, with its own HTTP client, through the proxy."""
    settings = KioskSettings(
        server_url=f"http://127.0.0.1:{proxy.port}",
        device_key=terminal.key,
        language="fr",
        idle=CALM_IDLE,
        request_timeout_seconds=TIMEOUT,
    )
    return create_app(settings)


async def sign_in(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, KioskApp)
    await wait_until(pilot, lambda: app.connection == "ready")
    await pilot.press("enter")
    await type_text(pilot, "jeanne")
    await pilot.press("enter")
    await settle(pilot)
    await type_text(pilot, PIN)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, HomeScreen)


async def count(factory: Factory, model: type[Any]) -> int:
    async with factory.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def balance(factory: Factory, account: Account) -> int:
    async with factory.session_factory() as session:
        found = await session.scalar(select(Account.balance_cents).where(Account.id == account.id))
        return int(found or 0)


async def test_a_kiosk_started_while_the_service_is_down_connects_by_itself_when_it_returns(
    proxy: FaultyProxy, terminal: EnrolledDevice, jeanne: Account
) -> None:
    await proxy.stop()
    app = kiosk(proxy, terminal)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.connection == "failed")
        assert isinstance(app.screen, WelcomeScreen)
        assert UNREACHABLE in screen_text(app)
        await proxy.start()
        # Nobody presses Retry: the kiosk tries again by itself.
        await wait_until(pilot, lambda: app.connection == "ready")
        await sign_in(pilot)


async def test_sign_in_and_badge_while_the_service_is_stopped_say_so_then_work_again(
    proxy: FaultyProxy, terminal: EnrolledDevice, jeanne: Account
) -> None:
    app = kiosk(proxy, terminal)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.connection == "ready")
        await pilot.press("enter")
        await type_text(pilot, "jeanne")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PinScreen)
        await proxy.stop()
        await type_text(pilot, PIN)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PinScreen)
        assert UNREACHABLE in screen_text(app)
        await proxy.start()
        await type_text(pilot, PIN)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)

        await proxy.stop()
        await pilot.click("#badge")
        await settle(pilot)
        badge = app.screen
        assert isinstance(badge, BadgeScreen)
        assert BADGE_RECONNECTING in screen_text(app)
        assert not badge.showing
        await proxy.start()
        # The badge screen fetches again by itself and shows the code.
        await wait_until(pilot, lambda: badge.showing)
        assert BADGE_RECONNECTING not in screen_text(app)


@pytest.mark.parametrize("mode", ["cut", "slow"])
async def test_an_order_whose_answer_is_lost_is_placed_once_and_shown(
    proxy: FaultyProxy,
    terminal: EnrolledDevice,
    factory: Factory,
    site: Site,
    jeanne: Account,
    clock: ManualClock,
    mode: Mode,
) -> None:
    await load(factory, site)
    at_paris(clock, 9, 0)
    app = kiosk(proxy, terminal)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await pilot.click("#order")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OrderNewScreen)
        assert screen.catalogue is not None
        plat = next(i for i, item in enumerate(screen.catalogue.items) if item.code == "PLAT")
        await pilot.click(f"#plus-{plat}")
        await pilot.click("#place")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmMoneyScreen)
        proxy.mode = mode
        await pilot.click("#confirm")
        # The service took the order, but its answer never arrives whole: the kiosk says it is
        # trying again, with the same key.
        await wait_until(pilot, lambda: RETRYING in screen_text(app))
        assert await count(factory, Order) == 1
        proxy.mode = "through"
        await wait_until(pilot, lambda: screen.receipt is not None)
        await settle(pilot)
        assert app.screen.query_one("#order-pickup", Digits).value == "1"
        assert "Votre solde : 41,50\xa0€" in screen_text(app)
    assert await count(factory, Order) == 1
    assert await count(factory, IdempotencyKey) == 1
    assert await balance(factory, jeanne) == 5000 - 850


async def test_a_top_up_whose_answer_is_cut_is_started_once(
    proxy: FaultyProxy, terminal: EnrolledDevice, factory: Factory, jeanne: Account
) -> None:
    app = kiosk(proxy, terminal)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await pilot.click("#top-up")
        await settle(pilot)
        await pilot.click("#preset-0")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmMoneyScreen)
        proxy.mode = "cut"
        await pilot.click("#confirm")
        await wait_until(pilot, lambda: RETRYING in screen_text(app))
        proxy.mode = "through"
        await wait_until(pilot, lambda: bool(app.screen.query("#top-up-qr")))
    assert await count(factory, TopUp) == 1


async def test_a_check_in_whose_answer_is_cut_ends_with_the_visitor_badge(
    proxy: FaultyProxy,
    terminal: EnrolledDevice,
    people: People,
    factory: Factory,
    clock: ManualClock,
) -> None:
    await people.approved()
    code = await invitation_code(factory, "lea@example.com")
    set_local(clock, DAY, "14:05")
    app = kiosk(proxy, terminal)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.connection == "ready")
        await pilot.click("#visitor")
        await settle(pilot)
        await pilot.click("#visitor-code")
        await settle(pilot)
        await enter_code(pilot, code, "Dupont")
        assert isinstance(app.screen, VisitorVisitScreen), screen_text(app)
        await pilot.click("#visitor-accept")
        proxy.mode = "cut"
        await pilot.click("#visitor-check-in")
        await settle(pilot)
        # Checked in on the service; the answer lost on the way: a calm message, no badge yet.
        assert isinstance(app.screen, VisitorVisitScreen)
        assert UNREACHABLE in screen_text(app)
        proxy.mode = "through"
        await pilot.click("#visitor-check-in")
        await settle(pilot)
        # The same check-in again, with its key: the badge, not "invitation already used".
        assert isinstance(app.screen, VisitorBadgeScreen), screen_text(app)
        assert "Hélène Girard" in screen_text(app)
    assert len(await notifications(factory)) == 1  # the host told of the arrival once
