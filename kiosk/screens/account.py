"""The person's account ("Mon compte"): what they change about themselves. Each entry opens its
own screen."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from kiosk.i18n import _
from kiosk.screens.base import KioskScreen
from kiosk.text import plain


class AccountScreen(KioskScreen):
    """Entries of the account area, one button each."""

    AUTO_FOCUS = "#account-entries Button"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="account.back"),
    ]

    def compose(self) -> ComposeResult:
        session = self.kiosk.session
        name = plain(session.name, max_length=60) if session is not None else ""
        with Vertical(id="account-body", classes="panel"):
            yield Static(_("My account"), classes="title", markup=False)
            yield Static(Content(name), id="account-name", markup=False)
            with Vertical(id="account-entries"):
                yield Button(_("My personal data"), id="personal-data")
                yield Button(_("Settings"), id="settings")
                yield Button(_("Monthly statement"), id="statement")
                yield Button(_("Change my PIN"), id="change-pin")
                yield Button(_("Lost badge"), id="lost-badge")
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back")

    def action_back(self) -> None:
        self.dismiss()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button.id
        if button == "back":
            self.dismiss()
        elif button == "change-pin":
            from kiosk.screens.change_pin import ChangePinScreen

            self.app.push_screen(ChangePinScreen())
        elif button == "personal-data":
            from kiosk.screens.personal_data import PersonalDataScreen

            self.app.push_screen(PersonalDataScreen())
        elif button == "statement":
            from kiosk.screens.statement import StatementScreen

            self.app.push_screen(StatementScreen())
        elif button == "settings":
            from kiosk.screens.settings import SettingsScreen

            self.app.push_screen(SettingsScreen())
        elif button == "lost-badge":
            from kiosk.screens.lost_badge import LostBadgeScreen

            self.app.push_screen(LostBadgeScreen())
