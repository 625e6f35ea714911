"""The kiosk's Textual app: the screen stack, the connection to the service, the signed-in
session, idle time-outs, kiosk mode and the language.

Nothing here imports httpx, the API client or the embedded service at module level: the welcome
screen is drawn first, and the connection worker imports them afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from textual import events, work
from textual.app import App, ScreenStackError, UnknownModeError
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import Reactive, reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from kiosk.display import HIGH_CONTRAST_THEME
from kiosk.i18n import Language, get_language, other_language, set_language
from kiosk.problems import SERVICE_UNAVAILABLE, describe_error
from kiosk.screens.base import KioskScreen, SignIn
from kiosk.screens.idle_countdown import IdleCountdownScreen
from kiosk.screens.maintenance import MaintenanceLock, MaintenanceScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk.settings import KioskSettings
from kiosk.text import plain

if TYPE_CHECKING:
    import ssl

    from textual.timer import Timer

    from kiosk.api.client import KioskClient
    from kiosk.api.models import Me
    from kiosk.embedded import EmbeddedService
    from kiosk.session import KioskSession

logger = logging.getLogger(__name__)

ClientFactory = Callable[[], "KioskClient"]
"""Builds the API client instead of the settings (tests: a client on an in-process transport)."""

ConnectionState = Literal["connecting", "ready", "failed"]

WallClock = Callable[[], datetime]
"""The terminal's time of day, timezone-aware, in the time zone the kiosk shows."""


def local_now() -> datetime:
    """The real time, in the machine's time zone."""
    return datetime.now().astimezone()


def in_zone(moment: datetime, time_zone: str) -> datetime:
    """`moment` in the named time zone; unchanged when the name is empty or unknown here."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not time_zone:
        return moment
    try:
        return moment.astimezone(ZoneInfo(time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        return moment


# What says a person is there (clicks that pilots send straight to a screen are seen there).
_ACTIVITY_EVENTS = (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)

# Below this many rows, screens switch to their compact layout.
SHORT_TERMINAL_ROWS = 30

# Seconds the app may take to notice that a screen's idle time is over.
_IDLE_TICK_SECONDS = 0.25


_LATER_CSS = (
    "screens/solution.tcss",
    "screens/identifier.tcss",
    "screens/verification.tcss",
    "screens/choose_pin.tcss",
    "screens/pin.tcss",
    "screens/home.tcss",
    "screens/notifications.tcss",
    "screens/account.tcss",
    "screens/change_pin.tcss",
    "screens/lost_badge.tcss",
    "screens/help.tcss",
    "screens/settings.tcss",
    "screens/personal_data.tcss",
    "screens/statement.tcss",
    "screens/maintenance.tcss",
    "screens/idle_countdown.tcss",
    "screens/badge.tcss",
    "screens/scan.tcss",
    "screens/confirm_money.tcss",
    "screens/tickets.tcss",
    "screens/ticket_detail.tcss",
    "screens/top_up.tcss",
    "screens/orders.tcss",
    "screens/order_new.tcss",
    "screens/visits.tcss",
    "screens/visit_form.tcss",
    "screens/visit_detail.tcss",
    "screens/reception.tcss",
    "screens/roll_call.tcss",
    "screens/desk_cash.tcss",
    "screens/evacuation.tcss",
    "screens/watchlist.tcss",
    "screens/visitor_photo.tcss",
    "screens/desk_lock.tcss",
    "screens/visitor_start.tcss",
    "screens/visitor_scan.tcss",
    "screens/visitor_code.tcss",
    "screens/visitor_visit.tcss",
    "screens/visitor_badge.tcss",
    "screens/visitor_walk_in.tcss",
)
"""The stylesheets of every screen but welcome, relative to this module (see `CSS_PATH`)."""


class KioskApp(App[None], inherit_bindings=False):
    """The kiosk terminal. Build it with `create_app`."""

    # What the welcome screen needs, read before the first frame; the other screens' rules
    # (`_LATER_CSS`) are read right after it, in the same order as if all were listed here:
    # parsing them all first made the first frame 15 ms later (bench/startup.py).
    CSS_PATH = ["app.tcss", "screens/welcome.tcss"]  # noqa: RUF012 - Textual's own type
    TITLE = "Badge kiosk"
    ENABLE_COMMAND_PALETTE = False
    # Selecting text and ctrl+c would copy a person's data to a clipboard that outlives them.
    ALLOW_SELECT = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit_kiosk", "Quit", show=False, priority=True, id="quit"),
        Binding("ctrl+c", "quit_kiosk", "Quit", show=False, priority=True, id="interrupt"),
        Binding("f12", "maintenance", "Maintenance", show=False, priority=True, id="maintenance"),
        Binding(
            "f2", "accessible_display", "Accessibility", show=False, priority=True, id="display"
        ),
    ]

    connection: Reactive[ConnectionState] = reactive("connecting", init=False)
    """Whether the service answers: Start waits for "ready"."""

    high_contrast: Reactive[bool] = reactive(False, init=False)
    """White and yellow on black (kiosk.display.HIGH_CONTRAST_THEME)."""
    large_text: Reactive[bool] = reactive(False, init=False)
    """Fewer, bigger elements: the `-large` rules of the style sheets."""

    RECONNECT_SECONDS: ClassVar[tuple[float, ...]] = (2.0, 5.0, 10.0, 30.0)
    """After connecting failed, the waits before trying again by itself (the last one repeats):
    a kiosk whose service was down comes back when it does, with nobody pressing Retry."""

    def __init__(
        self,
        settings: KioskSettings,
        *,
        client_factory: ClientFactory | None = None,
        clock: WallClock = local_now,
        idle_clock: Callable[[], float] = time.monotonic,
        embedded: EmbeddedService | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        """The terminal's configuration."""
        self.clock = clock
        """The terminal's wall clock: the welcome screen's time, the badge's countdown (tests
        freeze it)."""
        self._client_factory = client_factory
        self.client: KioskClient | None = None
        """The API client, once connected."""
        self.sites: list[tuple[str, str]] = []
        """(solution code, name) of each site this terminal serves."""
        self.time_zone = ""
        """The time zone of the site this terminal serves (its first one when several): the
        time shown before anyone signs in."""
        self.session: KioskSession | None = None
        """The signed-in person; None when nobody is."""
        self.connection_message = ""
        """Why connecting failed, translated."""
        self.maintenance_lock = MaintenanceLock()
        """Wrong maintenance PINs, kept across openings of the modal."""
        self.idle_clock = idle_clock
        """A steady clock in seconds for idle times and the "still there?" countdown (tests
        advance their own instead of waiting)."""
        self._embedded = embedded
        """The demo service (no server URL): started by the command line before it imported
        the app (`kiosk.cli`), else when the app loads."""
        self._last_activity = idle_clock()
        self._countdown: IdleCountdownScreen | None = None
        self._failed_connections = 0
        """Failed connections in a row (how long to wait before the next one)."""
        self._later_css_read = False
        self._roll_call_keeper: Timer | None = None
        """Refreshes the local copies of the roll call, on a terminal enrolled to keep them."""
        set_language(settings.language)
        self.register_theme(HIGH_CONTRAST_THEME)
        self._standard_theme = self.theme

    # Start-up and connection ---------------------------------------------------------------

    def on_load(self) -> None:
        # The demo service's process starts first of all, unless the command line started it
        # already (`kiosk.cli`): its import (about a second) then runs on the other core while
        # this one draws the welcome screen.
        if self._client_factory is None and self.settings.server_url is None:
            # A start that fails here (a log file it cannot open) is tried again by the
            # connection, which says why on the welcome screen.
            with contextlib.suppress(OSError):
                self._start_embedded()

    def get_default_screen(self) -> Screen[Any]:
        """The welcome screen, at the bottom of the stack for good (Textual's way to choose it):
        drawn first, where a blank screen under a welcome pushed on mount cost the first frame
        15 ms (bench/startup.py). Every other screen goes above it; a person leaving finds it
        again, made fresh (`_back_to_welcome`)."""
        return WelcomeScreen()

    def on_mount(self) -> None:
        self._fit_to_size()
        self.reset_display()
        self.set_interval(_IDLE_TICK_SECONDS, self._check_idle)
        # The connection once the welcome screen is drawn; the other screens' rules are read
        # then too, by the welcome screen (`read_later_css`).
        self.call_after_refresh(self.connect)

    def read_later_css(self) -> None:
        """Read the other screens' rules (`_LATER_CSS`), once. The welcome screen asks for it a
        moment after it is mounted. Asked after the app's first refresh, or after the welcome
        screen's, the reading (about 80 ms) still came before the welcome screen's frame reached
        the terminal (bench/startup.py, the two ways in one run: first paint 1.63 times the
        minimal app's, 1.23 with the reading a moment later); and the first second is spent
        waiting for the embedded service anyway."""
        if self._later_css_read:
            return
        self._later_css_read = True
        here = Path(__file__).parent
        self.stylesheet.read_all([here / path for path in _LATER_CSS])
        self.refresh_css(animate=False)

    def on_resize(self, event: events.Resize) -> None:
        self._fit_to_size()

    def _fit_to_size(self) -> None:
        """A terminal as small as 80×24 gets flat one-line buttons and tighter panels (the
        `-short` rules of app.tcss), so that every screen fits without scrolling."""
        self.set_class(self.size.height < SHORT_TERMINAL_ROWS, "-short")

    # The accessible display -----------------------------------------------------------------

    def action_accessible_display(self) -> None:
        """F2 (or the welcome screen's button): high contrast and large text together, on if
        either is off, else both off. The choice lasts until the person signs out."""
        on = not (self.high_contrast and self.large_text)
        self.high_contrast = on
        self.large_text = on

    def reset_display(self) -> None:
        """Back to the terminal's `[display]` defaults (start-up and each sign-out)."""
        self.high_contrast = self.settings.display.high_contrast
        self.large_text = self.settings.display.large_text
        self._apply_display()

    def watch_high_contrast(self) -> None:
        self._apply_display()

    def watch_large_text(self) -> None:
        self._apply_display()

    def _apply_display(self) -> None:
        self.theme = HIGH_CONTRAST_THEME.name if self.high_contrast else self._standard_theme
        self.set_class(self.high_contrast, "-high-contrast")
        self.set_class(self.large_text, "-large")

    def site_time(self) -> datetime:
        """The time a person reads: the wall clock in the signed-in person's site's time zone,
        else in the time zone of the site this terminal serves (a kiosk's machine often runs
        on UTC)."""
        session = self.session
        zone = session.time_zone if session is not None else self.time_zone
        return in_zone(self.clock(), zone)

    def connect(self) -> None:
        """Connect to the service (again), in a worker; Start waits for it."""
        self.connection = "connecting"
        self._connect()

    @work(exclusive=True, exit_on_error=False, group="connect")
    async def _connect(self) -> None:
        if self.client is None:
            self.client = await self._build_client()
        device = await self.client.device()
        self.sites = [(site.code, plain(site.name)) for site in device.sites]
        self.time_zone = device.sites[0].time_zone if device.sites else ""
        self._failed_connections = 0
        self.connection = "ready"
        if device.roll_call and self._roll_call_keeper is None:
            from kiosk.roll_call_cache import REFRESH_SECONDS

            self._roll_call_keeper = self.set_interval(REFRESH_SECONDS, self.keep_roll_calls)
            self.keep_roll_calls()
        # Once the welcome screen shows that Start works (a full collection takes 20-30 ms).
        self.call_after_refresh(_freeze_what_lives)

    def keep_roll_calls(self) -> None:
        """Refresh the local copy of each site's roll call (a terminal enrolled to keep it), so
        that the roll call and `kiosk roll-call` have a recent one when the service is down,
        whether the desk is open or not."""
        self.run_worker(
            self._save_roll_calls(), group="roll-call-keeper", exclusive=True, exit_on_error=False
        )

    async def _save_roll_calls(self) -> None:
        from kiosk.api.errors import ApiError
        from kiosk.roll_call_cache import RollCallCache

        client = self.client
        if client is None:
            return
        try:
            answer = await client.device_roll_calls()
        except ApiError as error:
            # The copies stay as they were: they are what is shown while the service is down.
            logger.info("roll call copies not refreshed: %s", _describe(error))
            return
        data_dir = self.settings.resolved_data_dir()

        def save() -> None:
            for roll_call in answer.roll_calls:
                RollCallCache(data_dir, roll_call.site.code).save(roll_call)

        await asyncio.to_thread(save)

    async def _build_client(self) -> KioskClient:
        if self._client_factory is not None:
            return self._client_factory()
        # The demo service's process first: it imports the service (about a second) on the
        # other core while this one imports the client.
        embedded = self._start_embedded() if self.settings.server_url is None else None
        # httpx, pydantic and the client take about half a second to import, and an https
        # service's TLS context 50 ms to make: done in a thread, so that the welcome screen
        # stays live (clock, language button) meanwhile.
        server_url = self.settings.server_url
        tls = await asyncio.to_thread(_prepare_connection, server_url)
        from kiosk.api.client import KioskClient

        timeout = self.settings.request_timeout_seconds
        if server_url is not None:
            # A missing key is answered by the service as device-key-missing: a calm message.
            key = self.settings.device_key or ""
            return KioskClient(server_url, key, timeout=timeout, tls=tls)
        assert embedded is not None  # noqa: S101 - no server URL: started above
        endpoint = await embedded.wait_ready_async()
        return KioskClient(endpoint.base_url, endpoint.device_key, timeout=timeout)

    def _start_embedded(self) -> EmbeddedService:
        """The embedded demo service, started (again, if it failed before)."""
        from kiosk.embedded import start_demo_service

        if self._embedded is not None and self._embedded.error is not None:
            self._embedded.stop()
            self._embedded = None
        if self._embedded is None:
            self._embedded = start_demo_service(self.settings)
        return self._embedded

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The app's own workers: the connection and best-effort sign-outs."""
        worker = event.worker
        if event.state != WorkerState.ERROR:
            return
        if worker.group == "connect":
            from kiosk.api.errors import ApiError

            error = worker.error
            if isinstance(error, ApiError):
                self.connection_message = describe_error(error)
            else:
                # The embedded service did not start, or a bug: the log says why.
                logger.error("cannot connect to the service: %s", _describe(error))
                from kiosk.i18n import _

                self.connection_message = _(SERVICE_UNAVAILABLE)
            self.connection = "failed"
            delays = self.RECONNECT_SECONDS
            delay = delays[min(self._failed_connections, len(delays) - 1)]
            self._failed_connections += 1
            self.set_timer(delay, self._reconnect)
        else:
            logger.warning("worker %s failed: %s", worker.name, _describe(worker.error))

    def _reconnect(self) -> None:
        # Not if Retry was pressed meanwhile (connecting, or connected already).
        if self.connection == "failed":
            self.connect()

    def api(self) -> KioskClient:
        """The connected API client (screens are only reachable once connected)."""
        if self.client is None:
            from kiosk.api.errors import ServiceUnavailable

            raise ServiceUnavailable("not connected")
        return self.client

    def site_for_code(self, typed: str) -> str | None:
        """The solution code of the served site matching `typed` (case-insensitively)."""
        wanted = typed.strip().upper()
        for code, _name in self.sites:
            if code.upper() == wanted:
                return code
        return None

    async def on_unmount(self) -> None:
        if self.session is not None:
            self.session.clear()
            self.session = None
        if self.client is not None:
            await self.client.aclose()
        if self._embedded is not None:
            self._embedded.stop()

    # Signing in and out --------------------------------------------------------------------

    def start_sign_in(self) -> None:
        """From the welcome screen: the solution code, or straight to the identifier when this
        terminal serves a single site."""
        if self.connection != "ready":
            return
        from kiosk.screens.identifier import IdentifierScreen
        from kiosk.screens.solution import SolutionScreen

        if len(self.sites) == 1:
            self.push_screen(IdentifierScreen(SignIn(solution_code=self.sites[0][0])))
        else:
            self.push_screen(SolutionScreen())

    def open_session(self, me: Me) -> None:
        """A person signed in: keep them in the session and show home, with the sign-in
        screens gone from the stack."""
        from kiosk.session import KioskSession

        self.session = KioskSession.from_me(me)
        if me.language is not None:
            # The person's own language (their settings), from home on.
            set_language(me.language)
        self.note_activity()
        self.call_later(self._show_home)

    def _show_home(self) -> None:
        from kiosk.screens.home import HomeScreen

        self._replace_stack(HomeScreen())

    def _replace_stack(self, top: Screen[Any] | None) -> None:
        """Pop every screen above the bottom one (welcome), then show `top` above it (None: the
        welcome itself)."""
        with self.batch_update():
            while len(self.screen_stack) > 1:
                self.pop_screen()
            if top is not None:
                self.push_screen(top)

    def end_session(self) -> None:
        """Sign out (on the service, best effort, in a worker), forget the person and go back
        to a fresh welcome screen."""
        session, self.session = self.session, None
        if session is not None:
            session.clear()
        client = self.client
        token = client.detach_session() if client is not None else None
        if client is not None and token is not None:
            # The token is already gone from the client: the next person's session, if it
            # starts before this request ends, is never touched by it.
            self.run_worker(
                client.sign_out(token), group="sign-out", exit_on_error=False, exclusive=False
            )
        # The next person finds the kiosk in its own language and look, not the last person's.
        set_language(self.settings.language)
        self.reset_display()
        self._back_to_welcome()

    def _back_to_welcome(self) -> None:
        self._countdown = None
        self._replace_stack(None)
        welcome = self.screen_stack[0]
        if isinstance(welcome, WelcomeScreen):
            self.call_later(welcome.make_fresh)
        self.note_activity()

    # Idle ----------------------------------------------------------------------------------

    def note_activity(self) -> None:
        """A person is there (a key, a click, a touch)."""
        self._last_activity = self.idle_clock()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, _ACTIVITY_EVENTS):
            self.note_activity()
        await super().on_event(event)

    def idle_limit(self, screen: Screen[Any]) -> float | None:
        """Seconds `screen` waits for a person before "still there?"; None: never."""
        # Kiosk screens, and modals that declare an `IDLE` kind too (a confirmation left open
        # must time out like the screen under it).
        kind = screen.IDLE if isinstance(screen, KioskScreen) else getattr(screen, "IDLE", "none")
        if kind == "none":
            return None
        idle = self.settings.idle
        if kind == "visitor":
            return float(idle.visitor_seconds)
        return float(idle.typing_seconds if kind == "typing" else idle.default_seconds)

    def _check_idle(self) -> None:
        if self._countdown is not None:
            return
        try:
            screen = self.screen
        except (ScreenStackError, UnknownModeError):
            # No screen: the app is closing (its last screen already gone), nothing to time out.
            return
        limit = self.idle_limit(screen)
        if limit is None or self.idle_clock() - self._last_activity < limit:
            return
        if getattr(self.screen, "IDLE", None) == "lock":
            # A reception desk locks instead of signing out: its user's PIN opens it again.
            from kiosk.screens.desk_lock import DeskLockScreen

            self.note_activity()
            self.push_screen(DeskLockScreen())
            return
        self._countdown = IdleCountdownScreen(
            self.settings.idle.countdown_seconds, clock=self.idle_clock
        )
        self.push_screen(self._countdown, self._countdown_done)

    def _countdown_done(self, still_there: bool | None) -> None:
        self._countdown = None
        self.note_activity()
        if not still_there:
            self.end_session()

    # Language ------------------------------------------------------------------------------

    async def switch_language(self, language: Language | None = None) -> None:
        """Switch to `language` (default: the other one) and draw the current screen again."""
        set_language(language or other_language())
        screen = self.screen
        if isinstance(screen, KioskScreen):
            await screen.relabel()

    # Kiosk mode ----------------------------------------------------------------------------

    def action_quit_kiosk(self) -> None:
        """ctrl+q / ctrl+c: quit, except in kiosk mode, where they do nothing visible."""
        if not self.settings.kiosk_mode:
            self.exit()

    def action_maintenance(self) -> None:
        """The hidden maintenance key of a kiosk."""
        if self.settings.kiosk_mode and not isinstance(self.screen, MaintenanceScreen):
            self.push_screen(MaintenanceScreen())

    def _handle_exception(self, error: Exception) -> None:
        # Textual's handler renders a Rich traceback with local variables (a person's data) and
        # exits. A kiosk logs the error without locals and goes back to welcome instead.
        if not self.settings.kiosk_mode:
            super()._handle_exception(error)
            return
        self._recover(error)

    async def _dispatch_message(self, message: Message) -> None:
        # An error in one of the app's own handlers would end the app's message loop (Textual
        # stops a message pump after an unhandled error): in kiosk mode, recover instead.
        if not self.settings.kiosk_mode:
            await super()._dispatch_message(message)
            return
        try:
            await super()._dispatch_message(message)
        except Exception as error:  # noqa: BLE001 - any error: log it and go back to welcome
            self._recover(error)

    def _recover(self, error: BaseException) -> None:
        logger.error("unexpected error; back to the welcome screen\n%s", _describe(error))
        self.call_later(self._wipe_after_error)

    def _wipe_after_error(self) -> None:
        try:
            self.end_session()
        except Exception as error:  # noqa: BLE001 - never let recovery itself take the kiosk down
            logger.error("could not go back to welcome\n%s", _describe(error))


def _describe(error: BaseException | None) -> str:
    """A traceback without local variables (they may hold a person's data)."""
    if error is None:
        return "(no error)"
    exception = traceback.TracebackException.from_exception(error, capture_locals=False)
    return "".join(exception.format())


def create_app(
    settings: KioskSettings,
    *,
    client_factory: ClientFactory | None = None,
    clock: WallClock = local_now,
    embedded: EmbeddedService | None = None,
) -> KioskApp:
    """The kiosk app for `settings`, as the command line and the tests build it.

    `client_factory` replaces the client the settings describe (tests pass one whose transport
    goes straight into the service's ASGI app); `clock` replaces the wall clock (tests freeze
    it); `embedded` is the demo service, already started (`kiosk.embedded.start_demo_service`).
    """
    return KioskApp(settings, client_factory=client_factory, clock=clock, embedded=embedded)


__all__ = ["ClientFactory", "KioskApp", "WallClock", "create_app", "get_language", "local_now"]


def _freeze_what_lives() -> None:
    """Everything imported and built so far (Textual, the client) lives as long as the kiosk:
    out of the garbage collector's full passes, which otherwise stall the screen for hundreds
    of milliseconds on a busy desk (bench/reception_bench). Nobody is signed in yet
    (connecting happens at the welcome screen), so nothing frozen holds a person's data; the
    garbage is collected first so that it is not kept."""
    gc.collect()
    gc.freeze()


_FIRST_REQUEST_MODULES = ("httpcore", "h11", "anyio._backends._asyncio")
"""What httpx imports at its first request (about 35 ms): its connection pool, its HTTP/1.1
parser and anyio's event loop backend."""


def _prepare_connection(server_url: str | None) -> ssl.SSLContext | None:
    """Import what connecting needs, the client and what httpx imports at its first request,
    and make the TLS context of an https service (run in a thread: see
    `KioskApp._build_client`)."""
    from kiosk.api.client import tls_context

    for name in _FIRST_REQUEST_MODULES:
        # One that a later httpx does without is no reason not to connect.
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    return None if server_url is None else tls_context(server_url)
