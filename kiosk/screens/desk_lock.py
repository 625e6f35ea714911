"""The locked reception desk: after its idle time the desk hides everything and asks its user's
PIN again. The PIN is checked by the service, as at sign-in (a new session for the same
identifier), so wrong PINs count there as usual; the right one shows the desk again, on the new
session, and the session the desk had before locking is ended on the service: a desk that was
locked and unlocked holds one live session, not one more per unlock."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from kiosk.i18n import _
from kiosk.screens.base import IdleKind, KioskScreen
from kiosk.text import plain
from kiosk.widgets.keypad import Keypad


class DeskLockScreen(KioskScreen):
    """A full screen (not a modal: nothing of the desk shows through it) that only its user's
    PIN, or signing out, closes."""

    IDLE: ClassVar[IdleKind] = "none"
    AUTO_FOCUS = "#desk-lock-pin"

    def __init__(self) -> None:
        super().__init__()
        self.unlocks = 0
        """Right PINs typed (tests read it)."""
        self._locked_token: str | None = None
        """The desk's session from before the lock, taken from the client at the first PIN
        typed, until a right PIN replaces it (then it is ended on the service)."""

    def compose(self) -> ComposeResult:
        session = self.kiosk.session
        name = plain(session.name, max_length=60) if session is not None else ""
        with Vertical(id="desk-lock-body", classes="panel"):
            yield Static(_("The reception desk is locked"), classes="title", markup=False)
            yield Static(
                Content.from_markup(_("$name, enter your PIN to unlock it."), name=name),
                classes="hint",
            )
            with Center():
                yield Keypad(6, id="desk-lock-pin")
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Sign out"), id="sign-out", variant="error")

    @on(Keypad.Submitted, "#desk-lock-pin")
    def _pin_typed(self, event: Keypad.Submitted) -> None:
        event.stop()
        event.keypad.clear()
        self.show_message(_("Checking…"))
        self.set_busy(True)
        self._unlock(event.value)

    @work(exclusive=True, exit_on_error=False, group="desk-lock")
    async def _unlock(self, pin: str) -> None:
        session = self.kiosk.session
        if session is None:
            self.kiosk.end_session()
            return
        api = self.kiosk.api()
        if self._locked_token is None:
            # Taken before signing in again, which replaces the client's token; kept here (not
            # ended) while PINs are wrong, so that a wrong PIN costs nothing but the try.
            self._locked_token = api.detach_session()
        me = await api.sign_in(session.site_code, session.identifier, pin)
        old, self._locked_token = self._locked_token, None
        if old is not None:
            await api.sign_out(old)
        if me.identifier != session.identifier:
            # Cannot happen with the same identifier; never hand a desk to someone else.
            self.kiosk.end_session()
            return
        session.update(me)
        self.unlocks += 1
        self.kiosk.note_activity()
        self.dismiss()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "sign-out":
            self.kiosk.end_session()

    def on_unmount(self) -> None:
        # Signed out from here, or the session ended otherwise (an account locked by wrong
        # PINs...) after a PIN was typed: the desk's old session is still held here.
        token, self._locked_token = self._locked_token, None
        client = self.kiosk.client
        if token is not None and client is not None:
            self.app.run_worker(
                client.sign_out(token), group="sign-out", exit_on_error=False, exclusive=False
            )
