"""Choosing a PIN (after activation or a forgotten PIN): typed twice on the keypad."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Horizontal, Vertical
from textual.widgets import Button, Static

from kiosk.i18n import _
from kiosk.problems import problem_code, problem_text
from kiosk.screens.base import IdleKind, KioskScreen, SignIn
from kiosk.widgets.keypad import Keypad


class ChoosePinScreen(KioskScreen):
    """The person types a new 6-digit PIN, then again; the service refuses trivial ones."""

    IDLE: ClassVar[IdleKind] = "typing"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="choose_pin.back"),
    ]

    def __init__(self, sign_in: SignIn, pin_setup_token: str) -> None:
        super().__init__()
        self.sign_in = sign_in
        self._token = pin_setup_token
        self._first: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="choose-pin-body", classes="panel"):
            if self._first is None:
                yield Static(_("Choose your PIN"), classes="title", markup=False)
                yield Static(
                    _(
                        "6 digits. Simple PINs such as 000000, 123456 or 112233 are refused: "
                        "choose one only you know."
                    ),
                    classes="hint",
                    markup=False,
                )
            else:
                yield Static(_("Type your PIN again"), classes="title", markup=False)
            with Center():
                yield Keypad(6, id="new-pin")
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back")

    def on_mount(self) -> None:
        self.query_one(Keypad).focus()

    def action_back(self) -> None:
        self.dismiss()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.dismiss()

    async def _restart(self, message: str) -> None:
        self._first = None
        self.message = message
        await self.redraw()
        self.query_one(Keypad).focus()

    @on(Keypad.Submitted, "#new-pin")
    async def _pin_typed(self, event: Keypad.Submitted) -> None:
        event.stop()
        if self._first is None:
            from kiosk_server.pin_rules import is_trivial_pin

            if is_trivial_pin(event.value):
                # Said at once, by the service's own rule: not after typing it a second time.
                await self._restart(problem_text("pin-too-simple"))
                return
            self._first = event.value
            self.message = ""
            await self.redraw()
            self.query_one(Keypad).focus()
        elif event.value != self._first:
            await self._restart(_("The two PINs are different. Choose your PIN again."))
        else:
            self.show_message(_("Saving your PIN…"))
            self.set_busy(True)
            self.save_pin(event.value)

    @work(exclusive=True, exit_on_error=False, group="api")
    async def save_pin(self, pin: str) -> None:
        """Set the PIN (this activates or unlocks the account and signs the person in)."""
        me = await self.kiosk.api().set_pin(self._token, pin)
        self._first = None
        self.kiosk.open_session(me)

    def on_problem(self, error: BaseException | None) -> None:
        super().on_problem(error)
        if problem_code(error) in ("pin-too-simple", "pin-malformed"):
            text = self.message
            self.call_later(self._restart, text)
