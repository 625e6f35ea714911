"""The confirmation every money action shows before anything is sent (the amount, and what it
will do). What happens after, retries included, is `kiosk.api.retry`'s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from kiosk.i18n import _
from kiosk.screens.base import IdleKind


class ConfirmMoneyScreen(ModalScreen[bool]):
    """Asks "are you sure?" with the amount in large type and a few lines saying what happens
    (the balance after...). Dismissed with True (confirm) or False (cancel, Escape)."""

    IDLE: ClassVar[IdleKind] = "default"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False, id="confirm_money.cancel"),
    ]
    AUTO_FOCUS = "#confirm"

    def __init__(
        self,
        title: str,
        amount: str,
        details: Sequence[str] = (),
        *,
        confirm_label: str = "",
        back_label: str = "",
    ) -> None:
        super().__init__()
        self.title_text = title
        """What is about to happen, translated ("Top up your account?")."""
        self.amount = amount
        """The amount, formatted."""
        self.details = tuple(details)
        """Plain lines under the amount (already made plain by the caller)."""
        self.confirm_label = confirm_label or _("Confirm")
        self.back_label = back_label or _("Cancel")
        """The button that changes nothing ("Keep the order" where confirming is cancelling)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-money-body", classes="panel"):
            yield Static(Content(self.title_text), classes="title", markup=False)
            yield Static(Content(self.amount), id="confirm-money-amount", markup=False)
            for line in self.details:
                yield Static(Content(line), classes="confirm-money-detail", markup=False)
            with Horizontal(classes="actions"):
                yield Button(self.back_label, id="cancel")
                yield Button(self.confirm_label, id="confirm", variant="success")

    def action_cancel(self) -> None:
        self.dismiss(False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")
