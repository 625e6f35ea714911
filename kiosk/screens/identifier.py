"""Signing in: the person's identifier, typed or scanned from their welcome letter's QR. The
service's answer routes them to their PIN, to activation, or to unlocking their account."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from kiosk.i18n import _
from kiosk.screens.base import KioskScreen, SignIn, continue_sign_in


class IdentifierScreen(KioskScreen):
    """Asks who the person is (their identifier on the site) and looks the account up."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="identifier.back"),
    ]

    def __init__(self, sign_in: SignIn) -> None:
        super().__init__()
        self.sign_in = sign_in

    def compose(self) -> ComposeResult:
        with Vertical(id="identifier-body", classes="panel"):
            yield Static(_("Enter your identifier"), classes="title", markup=False)
            with Horizontal(id="identifier-row"):
                yield Input(
                    id="identifier",
                    placeholder=_("Identifier"),
                    max_length=128,
                    classes="while-idle",
                )
                yield Button(_("Scan my QR"), id="scan", classes="while-idle")
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back")
                yield Button(_("Continue"), id="continue", variant="primary", classes="while-idle")

    def on_mount(self) -> None:
        self.query_one("#identifier", Input).focus()

    def action_back(self) -> None:
        self.dismiss()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._continue()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.dismiss()
        elif event.button.id == "continue":
            self._continue()
        elif event.button.id == "scan":
            from kiosk.screens.scan import ScanScreen

            self.show_message("")
            self.app.push_screen(ScanScreen(self.sign_in))

    def _continue(self) -> None:
        typed = self.query_one("#identifier", Input).value.strip()
        if not typed:
            self.show_message(_("Type your identifier."))
            return
        self.show_message(_("Looking for your account…"))
        self.set_busy(True)
        self.identify(SignIn(self.sign_in.solution_code, typed))

    @work(exclusive=True, exit_on_error=False, group="api")
    async def identify(self, sign_in: SignIn) -> None:
        """Look the account up and go where its state leads."""
        identity = await self.kiosk.api().identify(sign_in.solution_code, sign_in.identifier)
        self.show_message("")
        continue_sign_in(self.app, sign_in, identity.account_state)
