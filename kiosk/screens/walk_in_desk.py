"""Registering a walk-in at the reception desk: the visitor, and their host's full name."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static
from textual.worker import Worker, WorkerState

from kiosk.i18n import _
from kiosk.problems import describe_error, field_message
from kiosk.screens.base import IdleKind
from kiosk.text import plain

if TYPE_CHECKING:
    from kiosk.app import KioskApp

FIELDS = ("first_name", "last_name", "company", "email", "phone", "host_full_name")


class WalkInDeskScreen(ModalScreen[str | None]):
    """The walk-in form; dismissed with the visitor's name once registered, or None."""

    IDLE: ClassVar[IdleKind] = "lock"
    AUTO_FOCUS = "#walk-in-first_name"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False, id="walk_in_desk.cancel"),
    ]

    def compose(self) -> ComposeResult:
        labels = {
            "first_name": _("First name"),
            "last_name": _("Last name"),
            "company": _("Company"),
            "email": _("Email"),
            "phone": _("Phone"),
            "host_full_name": _("Host's full name"),
        }
        with Vertical(id="walk-in-desk-body", classes="panel"):
            yield Static(_("Register a walk-in"), classes="title", markup=False)
            for name in FIELDS:
                yield Input(
                    placeholder=labels[name], id=f"walk-in-{name}", max_length=100, compact=True
                )
                yield Static("", id=f"walk-in-error-{name}", classes="field-error", markup=False)
            yield Static("", id="walk-in-message", classes="message", markup=False)
            with Horizontal(classes="actions"):
                yield Button(_("Cancel"), id="cancel")
                yield Button(_("Register"), id="register", variant="primary")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _value(self, name: str) -> str:
        return self.query_one(f"#walk-in-{name}", Input).value.strip()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "register":
            self._clear_errors()
            self._register()
        else:
            self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def _clear_errors(self) -> None:
        for name in FIELDS:
            self.query_one(f"#walk-in-error-{name}", Static).update("")
        self.query_one("#walk-in-message", Static).update("")

    @work(exclusive=True, exit_on_error=False, group="walk-in")
    async def _register(self) -> None:
        from kiosk.api.models import VisitorInput

        visitor = VisitorInput(
            first_name=self._value("first_name"),
            last_name=self._value("last_name"),
            company=self._value("company"),
            email=self._value("email") or None,
            phone=self._value("phone") or None,
        )
        client = cast("KioskApp", self.app).api()
        await client.reception_walk_in(visitor, self._value("host_full_name"))
        self.dismiss(plain(f"{visitor.first_name} {visitor.last_name}", max_length=60))

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        from kiosk.api.errors import ProblemError

        error = event.worker.error
        if isinstance(error, ProblemError) and error.errors:
            for item in error.errors:
                name = item.field.split(".")[-1]
                if name in FIELDS:
                    widget = self.query_one(f"#walk-in-error-{name}", Static)
                    widget.update(Content(field_message(item.message)))
        self.query_one("#walk-in-message", Static).update(Content(describe_error(error)))
