"""The maintenance modal of a kiosk: the maintenance PIN, then a menu that can quit the app."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from kiosk.i18n import _

if TYPE_CHECKING:
    from kiosk.app import KioskApp

MAX_ATTEMPTS = 3
LOCK_SECONDS = 5 * 60


class MaintenanceLock:
    """Wrong maintenance PINs, counted across openings of the modal: after `MAX_ATTEMPTS`,
    maintenance stays closed for `LOCK_SECONDS`."""

    def __init__(self) -> None:
        self.failures = 0
        self.locked_until = 0.0

    @property
    def locked(self) -> bool:
        """True while maintenance refuses any PIN."""
        return time.monotonic() < self.locked_until

    def failed(self) -> None:
        """Count one wrong PIN."""
        self.failures += 1
        if self.failures >= MAX_ATTEMPTS:
            self.failures = 0
            self.locked_until = time.monotonic() + LOCK_SECONDS

    def succeeded(self) -> None:
        """A right PIN clears the count."""
        self.failures = 0


def check_pin(pin_hash: str, pin: str) -> bool:
    """True when `pin` matches the argon2 `pin_hash` (slow on purpose: run it off the UI loop)."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(PasswordHasher().verify(pin_hash, pin))
    except (VerificationError, InvalidHashError):
        return False


class MaintenanceScreen(ModalScreen[None]):
    """Asks for the maintenance PIN; a right one opens the menu (Quit, Back)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", show=False, id="maintenance.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.unlocked = False
        self.message = ""

    @property
    def kiosk(self) -> KioskApp:
        """The app, typed."""
        return cast("KioskApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(id="maintenance-body"):
            yield Static(_("Maintenance"), classes="title", markup=False)
            if self.unlocked:
                with Horizontal(classes="actions"):
                    yield Button(_("Back"), id="back")
                    yield Button(_("Quit the kiosk"), id="quit", variant="error")
            else:
                yield Input(id="maintenance-pin", password=True, placeholder=_("Maintenance PIN"))
                yield Static(self.message, id="message", classes="message", markup=False)
                with Horizontal(classes="actions"):
                    yield Button(_("Back"), id="back")

    def on_mount(self) -> None:
        for field in self.query("#maintenance-pin").results(Input):
            field.focus()

    def action_close(self) -> None:
        self.dismiss()

    def _say(self, text: str) -> None:
        self.message = text
        for widget in self.query("#message").results(Static):
            widget.update(text)

    @on(Input.Submitted, "#maintenance-pin")
    def _pin_typed(self, event: Input.Submitted) -> None:
        event.stop()
        pin = event.value
        event.input.value = ""
        lock = self.kiosk.maintenance_lock
        pin_hash = self.kiosk.settings.maintenance_pin_hash
        if pin_hash is None:
            self._say(_("No maintenance PIN is configured on this terminal."))
        elif lock.locked:
            self._say(_("Maintenance is locked for a while. Try again later."))
        elif pin:
            self.verify(pin_hash, pin)

    @work(exclusive=True, exit_on_error=False, group="maintenance")
    async def verify(self, pin_hash: str, pin: str) -> None:
        """Check the PIN in a thread: argon2 is slow on purpose."""
        lock = self.kiosk.maintenance_lock
        if await asyncio.to_thread(check_pin, pin_hash, pin):
            lock.succeeded()
            self.unlocked = True
            await self.recompose()
            self.query_one("#back", Button).focus()
        else:
            lock.failed()
            if lock.locked:
                self._say(_("Maintenance is locked for a while. Try again later."))
            else:
                self._say(_("Wrong maintenance PIN."))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.dismiss()
        elif event.button.id == "quit" and self.unlocked:
            self.app.exit()
