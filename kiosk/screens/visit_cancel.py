"""Confirming that a visit request is to be deleted (cancelled): the visitors are told."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from kiosk.i18n import _
from kiosk.screens.base import IdleKind


class ConfirmCancelVisitScreen(ModalScreen[bool]):
    """ "Delete this visit?"; dismissed with True (delete) or False (keep it, Escape)."""

    IDLE: ClassVar[IdleKind] = "default"
    AUTO_FOCUS = "#keep"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "keep", "Keep", show=False, id="visit_cancel.keep"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-cancel-visit-body", classes="panel"):
            yield Static(_("Delete this visit request?"), classes="title", markup=False)
            yield Static(
                _("Invited visitors are told, and their invitation stops working."),
                classes="hint",
                markup=False,
            )
            with Horizontal(classes="actions"):
                yield Button(_("Keep it"), id="keep")
                yield Button(_("Delete"), id="delete", variant="error")

    def action_keep(self) -> None:
        self.dismiss(False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "delete")
