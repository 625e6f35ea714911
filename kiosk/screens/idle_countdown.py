""" "Still there?": the countdown before an idle session ends."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Digits, Static

from kiosk.i18n import _, get_language, ngettext

ANNOUNCE_AGAIN_AT = 10
"""Seconds left when the countdown rings a second time."""


class IdleCountdownScreen(ModalScreen[bool]):
    """Counts down visibly; any key or touch dismisses it with True (the person is there), the
    end of the count with False. It announces itself with the terminal's bell as it opens and
    again ten seconds before the end, for a person who is not looking at the screen (the count
    lasts at least 20 s: kiosk.settings.MIN_COUNTDOWN_SECONDS)."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._deadline = clock() + seconds
        self._language = get_language()
        self._done = False
        self._announced_again = False

    def compose(self) -> ComposeResult:
        with Vertical(id="idle-countdown-body"):
            yield Static(_("Still there?"), classes="title", markup=False)
            yield Static(
                _("Touch the screen or press a key to continue."), classes="hint", markup=False
            )
            yield Static(self._remaining_text(), id="idle-countdown-seconds", markup=False)
            # The large-text layout shows the seconds left in big figures too.
            yield Digits(str(self._remaining()), id="idle-countdown-big")

    def on_mount(self) -> None:
        self.app.bell()
        self.set_interval(0.25, self._tick)

    def _remaining(self) -> int:
        return max(0, math.ceil(self._deadline - self._clock()))

    def _remaining_text(self) -> Content:
        left = self._remaining()
        return Content(
            ngettext("Signing out in %(n)d second", "Signing out in %(n)d seconds", left)
            % {"n": left}
        )

    def _finish(self, still_there: bool) -> None:
        # A key and the end of the count can arrive together: answer once.
        if not self._done:
            self._done = True
            self.dismiss(still_there)

    def _tick(self) -> None:
        if self._remaining() <= 0:
            self._finish(False)
            return
        if self._remaining() <= ANNOUNCE_AGAIN_AT and not self._announced_again:
            self._announced_again = True
            self.app.bell()
        self.query_one("#idle-countdown-seconds", Static).update(self._remaining_text())
        self.query_one("#idle-countdown-big", Digits).update(str(self._remaining()))

    def on_key(self, event: events.Key) -> None:
        event.stop()
        self._finish(True)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        event.stop()
        self._finish(True)
