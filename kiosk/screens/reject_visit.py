"""Rejecting a pending visit request at the reception desk: the reason the host will read."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from kiosk.i18n import _
from kiosk.screens.base import IdleKind

REASON_MAX = 200


class RejectVisitScreen(ModalScreen[str | None]):
    """Asks for the reason of a rejection; dismissed with it, or None (Cancel, Escape)."""

    IDLE: ClassVar[IdleKind] = "lock"
    AUTO_FOCUS = "#reject-reason"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False, id="reject_visit.cancel"),
    ]

    def __init__(self, visitor_name: str) -> None:
        super().__init__()
        self.visitor_name = visitor_name
        """The visitor's name, plain text already."""

    def compose(self) -> ComposeResult:
        with Vertical(id="reject-visit-body", classes="panel"):
            yield Static(
                Content.from_markup(_("Reject the visit of $name?"), name=self.visitor_name),
                classes="title",
            )
            yield Input(
                placeholder=_("Reason (the host reads it)"),
                max_length=REASON_MAX,
                id="reject-reason",
            )
            yield Static("", id="reject-error", classes="message", markup=False)
            with Horizontal(classes="actions"):
                yield Button(_("Cancel"), id="cancel")
                yield Button(_("Reject"), id="confirm", variant="error")

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#reject-reason")
    def _submitted(self) -> None:
        self._confirm()

    def _confirm(self) -> None:
        reason = self.query_one("#reject-reason", Input).value.strip()
        if not reason:
            self.query_one("#reject-error", Static).update(Content(_("Give a reason.")))
            return
        self.dismiss(reason)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self._confirm()
        else:
            self.dismiss(None)
