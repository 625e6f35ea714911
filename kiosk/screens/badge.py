"""The dematerialised badge: a rotating QR code, the person's name, their site, and a countdown
to the next token.

The service signs a new token every step (30 s by default) and accepts one step either side. The
screen fetches the next token when the service's step ends, so the QR never shows an expired
token; when a fetch fails it keeps the current token only while the service still accepts it,
then blanks the QR.

The terminal's clock may disagree with the service's. Each answer bounds the service's time
(its step started at most `step_seconds` before `refresh_at`, and has not ended), so the screen
keeps an estimate of the difference, nudged into those bounds by every answer, and plans on the
service's time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static
from textual.worker import Worker

from kiosk.i18n import _
from kiosk.problems import describe_error, problem_code
from kiosk.screens.base import KioskScreen
from kiosk.text import plain
from kiosk.widgets.qr_view import QrView

if TYPE_CHECKING:
    from kiosk.api.models import BadgeToken

MIN_REFRESH_SECONDS = 1.0
"""Never ask for a token more often than this (a clock far ahead of the service's would)."""
RETRY_SECONDS = 3.0
"""After a failed fetch, the next try."""
TICK_SECONDS = 0.5
"""How often the countdown and the plan are looked at."""
NAME_MAX = 40


class BadgeScreen(KioskScreen):
    """Shows the signed-in person's current badge token as a QR code and keeps it current."""

    AUTO_FOCUS = "#back"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="badge.back"),
    ]

    def __init__(self, *, clock: Callable[[], float] | None = None) -> None:
        super().__init__()
        self.clock = clock
        """The terminal's clock, in seconds since the epoch (tests control it); None: the app's
        wall clock."""
        self.badge: BadgeToken | None = None
        """The last token the service gave, with its times."""
        self.showing = False
        """True while the QR shows `badge.token` (False once it is no longer accepted)."""
        self.fetching = False
        """True while a fetch is under way."""
        self.clock_offset = 0.0
        """Estimated service clock minus the terminal's clock, in seconds."""
        self._next_fetch = -math.inf
        self._valid_until = -math.inf

    # Drawing --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="badge-body"):
            with Horizontal(id="badge-holder"):
                yield Static(Content(self._holder_name()), id="badge-name", markup=False)
                yield Static(Content(self._holder_site()), id="badge-site", markup=False)
            yield QrView(self._payload(), id="badge-qr")
            yield Static(self._countdown_text(), id="badge-countdown", markup=False)
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back", compact=True)

    def _now(self) -> float:
        if self.clock is not None:
            return self.clock()
        return self.kiosk.clock().timestamp()

    def _holder_name(self) -> str:
        if self.badge is not None:
            name = self.badge.name
        else:
            session = self.kiosk.session
            name = session.name if session is not None else ""
        # From the service: plain text only, never markup (a Content, not a markup string).
        return plain(name, max_length=NAME_MAX)

    def _holder_site(self) -> str:
        if self.badge is not None:
            site = self.badge.site.name
        else:
            session = self.kiosk.session
            site = session.site_name if session is not None else ""
        return plain(site, max_length=NAME_MAX)

    def _payload(self) -> str | None:
        return self.badge.token if self.badge is not None and self.showing else None

    def _countdown_text(self) -> Content:
        if self.showing:
            seconds = max(0, math.ceil(self._next_fetch - self._now()))
            if self.fetching or seconds == 0:
                return Content(_("Refreshing…"))
            return Content(_("Refreshing in {seconds} s").format(seconds=seconds))
        if self.fetching:
            return Content(_("Loading your badge…"))
        return Content("")

    def _redraw(self) -> None:
        self.query_one("#badge-qr", QrView).payload = self._payload()
        self.query_one("#badge-name", Static).update(Content(self._holder_name()))
        self.query_one("#badge-site", Static).update(Content(self._holder_site()))
        self._update_countdown()

    def _update_countdown(self) -> None:
        self.query_one("#badge-countdown", Static).update(self._countdown_text())

    # Keeping the token current ----------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_interval(TICK_SECONDS, self._tick)
        self._tick()

    def _tick(self) -> None:
        now = self._now()
        if self.showing and now >= self._valid_until:
            # The service no longer accepts it: a QR that fails at the door is worse than none.
            self.showing = False
            self.show_message(_("Your badge cannot be shown right now. Reconnecting…"))
            self._redraw()
        if not self.fetching and now >= self._next_fetch:
            self.refresh_badge()
        self._update_countdown()

    def refresh_badge(self) -> Worker[None]:
        """Fetch the current token now (the screen does so on its own when a step ends)."""
        self.fetching = True
        self._update_countdown()
        return self._fetch()

    @work(exclusive=True, exit_on_error=False, group="badge")
    async def _fetch(self) -> None:
        badge = await self.kiosk.api().badge()
        self._apply(badge, self._now())

    def _apply(self, badge: BadgeToken, now: float) -> None:
        """Plan the next fetch and the end of validity on the service's time."""
        refresh_at = badge.refresh_at.timestamp()
        # When it answered, the service's time was in [refresh_at - step, refresh_at).
        earliest = refresh_at - badge.step_seconds - now
        latest = refresh_at - now
        self.clock_offset = min(max(self.clock_offset, earliest), latest)
        service_now = now + self.clock_offset
        self._next_fetch = now + max(refresh_at - service_now, MIN_REFRESH_SECONDS)
        self._valid_until = now + (badge.valid_until.timestamp() - service_now)
        self.badge = badge
        self.showing = True
        self.fetching = False
        self.show_message("")
        self._redraw()

    def on_problem(self, error: BaseException | None) -> None:
        self.fetching = False
        now = self._now()
        if problem_code(error) in ("session-invalid", "session-missing"):
            # Nobody is signed in any more: nothing to show, nothing to retry.
            self.showing = False
            self._next_fetch = math.inf
            self.show_message(describe_error(error))
        else:
            describe_error(error)  # logs what is not the service saying no
            self._next_fetch = now + RETRY_SECONDS
            if now < self._valid_until:
                self.show_message(_("Reconnecting… Your badge is still valid."))
            else:
                self.showing = False
                self.show_message(_("Your badge cannot be shown right now. Reconnecting…"))
        self._redraw()

    # Leaving --------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.dismiss()
