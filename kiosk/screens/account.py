"""The person's account ("Mon compte"): what they change about themselves. Each entry opens its
own screen."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from kiosk.i18n import _
from kiosk.screens.base import KioskScreen
from kiosk.text import plain

_ROOMS = {
    "change-pin": "kiosk.screens.change_pin:ChangePinScreen",
    "personal-data": "kiosk.screens.personal_data:PersonalDataScreen",
    "statement": "kiosk.screens.statement:StatementScreen",
    "settings": "kiosk.screens.settings:SettingsScreen",
    "lost-badge": "kiosk.screens.lost_badge:LostBadgeScreen",
}
"""The screens of the account area, each imported when first opened."""


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

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss()

    @on(Button.Pressed, ", ".join(f"#{room}" for room in _ROOMS))
    def _open_room(self, event: Button.Pressed) -> None:
        self.open_screen(_ROOMS[event.button.id or ""])
