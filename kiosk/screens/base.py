"""What every kiosk screen shares: its idle kind, re-rendering in a new language, noting that a
person is there, and showing a failed API call as a calm, translated message
(`kiosk.problems`)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from textual import events, on
from textual.app import App
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from kiosk.i18n import get_language, ngettext
from kiosk.problems import describe_error

if TYPE_CHECKING:
    from textual.widget import Widget

    from kiosk.app import KioskApp
    from kiosk.widgets.keypad import Keypad

IdleKind = Literal["default", "typing", "visitor", "none", "lock"]
"""`visitor`: the visitor screens' own, shorter idle time (`idle.visitor_seconds`). `lock`: the
screen is a reception desk, which locks (asks its user's PIN again) instead of
signing out when idle."""
VerificationPurpose = Literal["activate", "reset_pin"]


@dataclass(frozen=True, slots=True)
class SignIn:
    """Who is signing in, as far as the sign-in screens know: passed from one to the next."""

    solution_code: str
    """The site's solution code (typed, or the only site of the terminal)."""
    identifier: str = ""
    """What the person typed to say who they are."""


def continue_sign_in(
    app: App[Any], sign_in: SignIn, account_state: str, *, replace: bool = False
) -> None:
    """Where a found account goes next, whether its identifier was typed or scanned: its PIN
    when active, activation when pending, the unlock code when locked. `replace` shows the next
    screen in place of the current one (the scan screen, whose camera must close)."""
    from kiosk.screens.pin import PinScreen
    from kiosk.screens.verification import Reason, VerificationScreen

    if account_state == "active":
        screen: KioskScreen = PinScreen(sign_in)
    else:
        reason: Reason = "activate" if account_state == "pending_activation" else "locked"
        screen = VerificationScreen(sign_in, reason)
    if replace:
        app.switch_screen(screen)
    else:
        app.push_screen(screen)


BACKGROUND_GROUP = "background"
"""Workers of this group (a search as the person types) work beside what the person does:
they neither end the screen's busy state nor report a problem (they handle their own)."""


class KioskScreen(Screen[None]):
    """Base of the kiosk's screens.

    `IDLE` says which idle time of the config applies ("none": the screen never times out).
    Screens build their widgets from their own attributes in `compose`, so that a language
    switch can simply recompose them. API calls run in the screen's own workers; a failure
    reaches `on_problem`, which by default shows `describe_error` in the screen's `#message`.
    """

    IDLE: ClassVar[IdleKind] = "default"

    def __init__(self) -> None:
        super().__init__()
        self._language = get_language()
        self.message = ""
        """The calm message shown in `#message` (kept so a recompose shows it again)."""
        self._focus_while_busy: Widget | None = None
        """What had the focus when a call started, given back when it ends."""

    @property
    def kiosk(self) -> KioskApp:
        """The app, typed."""
        return cast("KioskApp", self.app)

    def open_screen(self, target: str) -> None:
        """Push the screen named `module:Class`, imported when first opened (a room the
        person may never visit costs nothing at start-up)."""
        module, name = target.split(":")
        self.app.push_screen(getattr(importlib.import_module(module), name)())

    def message_widget(self) -> Static:
        """A `#message` line showing `self.message` as plain text."""
        return Static(Content(self.message), id="message", classes="message", markup=False)

    def show_message(self, text: str) -> None:
        """Show `text` (already translated) in `#message`."""
        self.message = text
        for widget in self.query("#message").results(Static):
            widget.update(Content(text))

    async def relabel(self) -> None:
        """Draw the screen again in the current language."""
        self._language = get_language()
        await self.redraw()

    async def redraw(self) -> None:
        """Compose the screen again, the focus back on the control that had it (by its id),
        else on the screen's first: never nowhere, where a keyboard user would be lost."""
        before = self.focused.id if self.focused is not None else None
        await self.recompose()
        again = self.query(f"#{before}") if before else None
        if again:
            again.first().focus()
        elif self.is_current and self.focused is None:
            self.focus_next()

    async def on_screen_resume(self) -> None:
        if self._language != get_language():
            await self.relabel()

    # A click on a widget reaches the screen by bubbling; keys are seen by the app.
    def on_mouse_down(self, event: events.MouseDown) -> None:
        self.kiosk.note_activity()

    def on_click(self, event: events.Click) -> None:
        self.kiosk.note_activity()

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == BACKGROUND_GROUP:
            return
        if event.state == WorkerState.ERROR:
            self.set_busy(False)
            self.on_problem(event.worker.error)
        elif event.state in (WorkerState.SUCCESS, WorkerState.CANCELLED):
            self.set_busy(False)

    def on_keypad_incomplete(self, event: Keypad.Incomplete) -> None:
        """OK on a keypad before every digit is typed: say how many are needed."""
        event.stop()
        length = event.keypad.length
        self.show_message(
            ngettext("Type all %(n)d digit.", "Type all %(n)d digits.", length) % {"n": length}
        )

    def on_problem(self, error: BaseException | None) -> None:
        """A call failed: say so calmly. Screens override this for codes they act on."""
        self.show_message(describe_error(error))

    def set_busy(self, busy: bool) -> None:
        """Show or end the loading state while a call runs. The widgets marked `while-idle` are
        disabled meanwhile, which takes the focus from them: it goes back where it was once the
        call ends, so that a person corrects a refused field by typing at once (an input's text
        is selected, ready to be replaced)."""
        self.set_class(busy, "-busy")
        if busy and self._focus_while_busy is None:
            self._focus_while_busy = self.focused
        for widget in self.query(".while-idle"):
            widget.disabled = busy
        if not busy:
            focused, self._focus_while_busy = self._focus_while_busy, None
            if focused is not None and focused.is_attached and self.focused is None:
                focused.focus()
