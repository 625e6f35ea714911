"""A code sent to the person's email or phone: to activate an account, to unlock a locked one,
or to choose a new PIN when it is forgotten."""

from __future__ import annotations

from typing import ClassVar, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from kiosk.i18n import _, get_language
from kiosk.problems import problem_code
from kiosk.screens.base import IdleKind, KioskScreen, SignIn
from kiosk.text import plain
from kiosk.widgets.keypad import Keypad

Reason = Literal["activate", "locked", "forgotten"]


class VerificationScreen(KioskScreen):
    """Sends a verification code (on request), then takes the 6 digits and trades them for the
    right to choose a PIN."""

    IDLE: ClassVar[IdleKind] = "typing"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="verification.back"),
    ]

    def __init__(self, sign_in: SignIn, reason: Reason) -> None:
        super().__init__()
        self.sign_in = sign_in
        self.reason: Reason = reason
        self.destination: str | None = None
        """Where the code went, masked by the service (`j***@example.com`); None before."""

    @property
    def purpose(self) -> Literal["activate", "reset_pin"]:
        """What the code is for, in the service's words."""
        return "activate" if self.reason == "activate" else "reset_pin"

    def compose(self) -> ComposeResult:
        with Vertical(id="verification-body", classes="panel"):
            if self.reason == "activate":
                yield Static(_("Account found — activate it"), classes="title", markup=False)
                explain = _(
                    "To activate your account, we send you a code by email or text message."
                )
                send_label = _("Activate your account")
            elif self.reason == "locked":
                yield Static(_("Your account is locked"), classes="title", markup=False)
                explain = _(
                    "After too many attempts, your account was locked. "
                    "A code sent to you unlocks it and lets you choose a new PIN."
                )
                send_label = _("Send me a code")
            else:
                yield Static(_("Forgotten PIN"), classes="title", markup=False)
                explain = _("We send you a code by email or text message to choose a new PIN.")
                send_label = _("Send me a code")
            if self.destination is None:
                yield Static(explain, classes="hint", markup=False)
                yield self.message_widget()
                with Horizontal(classes="actions"):
                    yield Button(_("Back"), id="back")
                    yield Button(send_label, id="send", variant="primary", classes="while-idle")
            else:
                yield Static(
                    Content.from_markup(
                        _("A code was sent to $destination"), destination=plain(self.destination)
                    ),
                    id="destination",
                    classes="hint",
                )
                yield Static(_("Type the 6-digit code."), classes="hint", markup=False)
                with Center():
                    yield Keypad(6, id="code")
                yield self.message_widget()
                with Horizontal(classes="actions"):
                    yield Button(_("Back"), id="back")
                    yield Button(_("Send a new code"), id="send", classes="while-idle")

    def on_mount(self) -> None:
        self._focus_keypad()

    def _focus_keypad(self) -> None:
        """The keypad once the code is sent; before that, the button that sends it, so that
        Enter does what the screen is for."""
        for keypad in self.query(Keypad).results(Keypad):
            keypad.focus()
            return
        for button in self.query("#send").results(Button):
            button.focus()

    def action_back(self) -> None:
        self.dismiss()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.dismiss()
        elif event.button.id == "send":
            self.show_message(_("Sending the code…"))
            self.set_busy(True)
            self.send_code()

    @on(Keypad.Submitted, "#code")
    def _code_typed(self, event: Keypad.Submitted) -> None:
        event.stop()
        event.keypad.clear()
        self.show_message(_("Checking the code…"))
        self.set_busy(True)
        self.check_code(event.value)

    @work(exclusive=True, exit_on_error=False, group="api")
    async def send_code(self) -> None:
        """Ask the service to send a code to the account's contact."""
        sent = await self.kiosk.api().send_verification_code(
            self.sign_in.solution_code,
            self.sign_in.identifier,
            self.purpose,
            language=get_language(),
        )
        self.destination = sent.destination
        self.message = ""
        await self.redraw()
        self._focus_keypad()

    @work(exclusive=True, exit_on_error=False, group="api")
    async def check_code(self, code: str) -> None:
        """Trade the code for a PIN setup token, then choose the PIN."""
        setup = await self.kiosk.api().check_verification_code(
            self.sign_in.solution_code, self.sign_in.identifier, code
        )
        self.show_message("")
        from kiosk.screens.choose_pin import ChoosePinScreen

        self.app.push_screen(ChoosePinScreen(self.sign_in, setup.pin_setup_token))

    def on_problem(self, error: BaseException | None) -> None:
        super().on_problem(error)
        if problem_code(error) == "account-already-active":
            from kiosk.screens.pin import PinScreen

            self.app.switch_screen(PinScreen(self.sign_in))
