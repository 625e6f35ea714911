"""Signing in: the PIN of an active account, on the keypad."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Horizontal, Vertical
from textual.widgets import Button, Static

from kiosk.i18n import _
from kiosk.problems import problem_code
from kiosk.screens.base import KioskScreen, SignIn
from kiosk.widgets.keypad import Keypad


class PinScreen(KioskScreen):
    """Takes the person's PIN and signs them in; "Forgotten PIN?" leads to a code."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="pin.back"),
    ]

    def __init__(self, sign_in: SignIn) -> None:
        super().__init__()
        self.sign_in = sign_in
        self.locked = False
        """True once the service said the account is locked: the code path is offered."""

    def compose(self) -> ComposeResult:
        with Vertical(id="pin-body", classes="panel"):
            yield Static(_("Enter your PIN"), classes="title", markup=False)
            with Center():
                yield Keypad(6, id="pin")
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back")
                if self.locked:
                    yield Button(_("Unlock with a code"), id="forgotten", variant="primary")
                else:
                    yield Button(_("Forgotten PIN?"), id="forgotten")

    def on_mount(self) -> None:
        self.query_one(Keypad).focus()

    def action_back(self) -> None:
        self.dismiss()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.dismiss()
        elif event.button.id == "forgotten":
            from kiosk.screens.verification import Reason, VerificationScreen

            reason: Reason = "locked" if self.locked else "forgotten"
            self.app.push_screen(VerificationScreen(self.sign_in, reason))

    @on(Keypad.Submitted, "#pin")
    def _pin_typed(self, event: Keypad.Submitted) -> None:
        event.stop()
        event.keypad.clear()
        self.show_message(_("Signing in…"))
        self.set_busy(True)
        self.sign_in_with(event.value)

    @work(exclusive=True, exit_on_error=False, group="api")
    async def sign_in_with(self, pin: str) -> None:
        """Sign in; the app then replaces the sign-in screens with home."""
        me = await self.kiosk.api().sign_in(
            self.sign_in.solution_code, self.sign_in.identifier, pin
        )
        self.kiosk.open_session(me)

    def on_problem(self, error: BaseException | None) -> None:
        super().on_problem(error)
        if problem_code(error) == "account-locked" and not self.locked:
            self.locked = True
            self.call_later(self.recompose)
