"""A visitor at the kiosk, nobody signed in: scan the invitation (or the visitor badge, to
leave), type the invitation's code, or ask for a host without an invitation."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from kiosk.i18n import _
from kiosk.screens.base import IdleKind, KioskScreen


class VisitorStartScreen(KioskScreen):
    """The visitor's three ways in: the invitation's QR, its code, or no invitation."""

    IDLE: ClassVar[IdleKind] = "visitor"
    AUTO_FOCUS = "#visitor-scan"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="visitor_start.back"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="visitor-start-body", classes="panel"):
            yield Static(_("Welcome, visitor"), classes="title", markup=False)
            yield Static(
                _(
                    "Arriving: scan the QR code of your invitation, or type its code. "
                    "Leaving: scan your visitor badge."
                ),
                classes="hint",
                markup=False,
            )
            with Vertical(id="visitor-start-choices"):
                yield Button(_("Scan my invitation or badge"), id="visitor-scan", variant="primary")
                yield Button(_("Type my invitation code"), id="visitor-code")
                yield Button(_("I have no invitation"), id="visitor-walk-in")
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
        elif button == "visitor-scan":
            from kiosk.screens.visitor_scan import VisitorScanScreen

            self.app.push_screen(VisitorScanScreen())
        elif button == "visitor-code":
            from kiosk.screens.visitor_code import VisitorCodeScreen

            self.app.push_screen(VisitorCodeScreen())
        elif button == "visitor-walk-in":
            from kiosk.screens.visitor_walk_in import VisitorWalkInScreen

            self.app.push_screen(VisitorWalkInScreen())
