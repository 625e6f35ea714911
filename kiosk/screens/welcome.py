"""The attract screen: the product's name, the clock, the language switch and Start."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Horizontal, Vertical
from textual.widgets import Button, Digits, Static

from kiosk.i18n import LANGUAGE_NAMES, _, get_language, other_language
from kiosk.screens.base import IdleKind, KioskScreen

if TYPE_CHECKING:
    from textual.timer import Timer

LATER_CSS_SECONDS = 0.25
"""How long after the welcome screen is mounted the other screens' rules are read: its first
frame has reached the terminal by then (`KioskApp.read_later_css`)."""


class WelcomeScreen(KioskScreen):
    """Shown when nobody is signed in. Start is a loading state until the service answers."""

    IDLE: ClassVar[IdleKind] = "none"
    AUTO_FOCUS = "#start, #retry"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "start", "Start", show=False, id="welcome.start"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.start_when_ready = False
        """Enter was pressed while the service was still connecting: sign-in starts once it
        answers (the key is not lost)."""
        self._ticker: Timer | None = None
        """The clock's tick, paused while the screen is hidden."""

    def compose(self) -> ComposeResult:
        state = self.kiosk.connection
        with Vertical(id="welcome-body"):
            yield Static(_("Badge kiosk"), id="welcome-title", markup=False)
            yield Static(_("All your services in one click!"), id="welcome-tagline", markup=False)
            yield Static(self._clock_text(), id="welcome-clock", markup=False)
            # The large-text layout shows the clock in big figures instead (welcome.tcss).
            yield Digits(self._clock_text(), id="welcome-clock-big")
            with Center():
                if state == "ready":
                    yield Button(_("Sign in"), id="start", variant="primary")
                elif state == "failed":
                    yield Button(_("Retry"), id="retry", variant="warning")
                else:
                    yield Button(_("Connecting…"), id="start", disabled=True)
            if state == "ready":
                yield Static(_("Touch or press Enter to start"), id="welcome-hint", markup=False)
            elif state == "failed":
                self.message = self.kiosk.connection_message
            elif self.start_when_ready:
                self.message = _("Connecting to the service: sign-in starts as soon as it answers.")
            else:
                self.message = ""
            yield self.message_widget()
            with Horizontal(id="welcome-actions"):
                if state == "ready":
                    yield Button(_("I am a visitor"), id="visitor")
                    yield Button(_("Help"), id="help")
                yield Button(LANGUAGE_NAMES[other_language()], id="language")
                yield Button(self._display_label(), id="display")

    async def make_fresh(self) -> None:
        """As the next person should find it: in the terminal's language, no message, Start
        not waiting, and the focus on it (the welcome screen stays at the bottom of the stack:
        `KioskApp.get_default_screen`)."""
        self.start_when_ready = False
        if self._language != get_language():
            # (Unless revealing it already drew it again: `KioskScreen.on_screen_resume`.)
            self.message = ""
            await self.relabel()
        else:
            self.show_message("")
            self._focus_start()

    def _display_label(self) -> str:
        if self.kiosk.high_contrast and self.kiosk.large_text:
            return _("Standard display (F2)")
        return _("Accessibility (F2)")

    def on_mount(self) -> None:
        # The other screens' rules once this screen has reached the terminal (see the method),
        # or as soon as a person leaves it, if they are quicker.
        self.set_timer(LATER_CSS_SECONDS, self.kiosk.read_later_css)
        self._ticker = self.set_interval(1.0, self._tick)
        # Redraw when the connection to the service changes state (drawn first, connected after).
        self.watch(self.kiosk, "connection", self._connection_changed, init=False)
        self.watch(self.kiosk, "large_text", self._display_changed, init=False)
        self.watch(self.kiosk, "high_contrast", self._display_changed, init=False)

    def on_screen_suspend(self) -> None:
        self.kiosk.read_later_css()
        # Hidden (the first welcome stays under every other screen): no clock to keep.
        if self._ticker is not None:
            self._ticker.pause()

    def _display_changed(self) -> None:
        for button in self.query("#display").results(Button):
            button.label = self._display_label()

    async def _connection_changed(self) -> None:
        state = self.kiosk.connection
        waiting = self.start_when_ready
        if state != "connecting":
            self.start_when_ready = False
        await self.relabel()
        if waiting and state == "ready" and self.is_current:
            self.kiosk.start_sign_in()

    async def relabel(self) -> None:
        await super().relabel()
        self._focus_start()

    async def on_screen_resume(self) -> None:
        await super().on_screen_resume()
        if self._ticker is not None:
            self._tick()
            self._ticker.resume()
        # Back from help or the visitor's screens: Enter starts, as the hint says.
        self._focus_start()

    def _focus_start(self) -> None:
        # Enter on a focused language button would switch the language instead of starting.
        for button in self.query("#start, #retry").results(Button):
            button.focus()

    def _clock_text(self) -> str:
        return self.kiosk.site_time().strftime("%H:%M")

    def _tick(self) -> None:
        for clock in self.query("#welcome-clock").results(Static):
            clock.update(self._clock_text())
        for big in self.query("#welcome-clock-big").results(Digits):
            big.update(self._clock_text())

    def start_visitor(self) -> None:
        """A visitor: their own screens, with nobody signed in."""
        if self.kiosk.connection != "ready":
            return
        from kiosk.screens.visitor_start import VisitorStartScreen

        self.app.push_screen(VisitorStartScreen())

    def action_start(self) -> None:
        if self.kiosk.connection == "connecting":
            self.start_when_ready = True
            self.show_message(_("Connecting to the service: sign-in starts as soon as it answers."))
            return
        self.kiosk.start_sign_in()

    @on(Button.Pressed, "#start")
    def _start(self) -> None:
        self.kiosk.start_sign_in()

    @on(Button.Pressed, "#retry")
    def _retry(self) -> None:
        self.kiosk.connect()

    @on(Button.Pressed, "#visitor")
    def _visitor(self) -> None:
        self.start_visitor()

    @on(Button.Pressed, "#help")
    def _help(self) -> None:
        from kiosk.screens.help import HelpScreen

        self.app.push_screen(HelpScreen())

    @on(Button.Pressed, "#display")
    def _switch_display(self) -> None:
        self.kiosk.action_accessible_display()

    @on(Button.Pressed, "#language")
    async def _switch_language(self) -> None:
        await self.kiosk.switch_language()
