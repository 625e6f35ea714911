"""A lost badge, blocked by its owner: what blocking does, one key to go on, then the PIN to
confirm. The badge's QR codes (and the welcome letter's) stop working at once; the kiosk shows
the new badge."""

from __future__ import annotations

from typing import ClassVar, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Horizontal, Vertical
from textual.widgets import Button, Static

from kiosk.i18n import _
from kiosk.problems import problem_code
from kiosk.screens.base import IdleKind, KioskScreen
from kiosk.widgets.keypad import Keypad

Step = Literal["explain", "pin", "done"]


class LostBadgeScreen(KioskScreen):
    """What blocking does; Block my badge; the PIN; done (with the new badge a key away)."""

    IDLE: ClassVar[IdleKind] = "typing"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="lost_badge.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.step: Step = "explain"

    def compose(self) -> ComposeResult:
        with Vertical(id="lost-badge-body", classes="panel"):
            if self.step == "explain":
                yield Static(_("Lost badge"), classes="title", markup=False)
                yield Static(
                    _(
                        "Blocking your badge stops its QR codes at once, at tills and doors, "
                        "and the QR code of your welcome letter too. This kiosk then shows your "
                        "new badge; for a new welcome letter, ask the reception desk."
                    ),
                    classes="hint",
                    markup=False,
                )
            elif self.step == "pin":
                yield Static(_("Type your PIN to block your badge"), classes="title", markup=False)
                with Center():
                    yield Keypad(6, id="pin")
            else:
                yield Static(_("Your badge is blocked"), classes="title", markup=False)
                yield Static(
                    _("Its old QR codes are no longer accepted. Your new badge is ready."),
                    classes="hint",
                    markup=False,
                )
            yield self.message_widget()
            with Horizontal(classes="actions"):
                if self.step == "explain":
                    yield Button(_("Back"), id="back")
                    yield Button(_("Block my badge"), id="block", variant="error")
                elif self.step == "pin":
                    yield Button(_("Back"), id="back", classes="while-idle")
                else:
                    yield Button(_("Finish"), id="back")
                    yield Button(_("Show my new badge"), id="new-badge", variant="primary")

    def on_mount(self) -> None:
        self._focus()

    def _focus(self) -> None:
        target = {"explain": "#back", "pin": "#pin", "done": "#new-badge"}[self.step]
        for widget in self.query(target):
            widget.focus()

    async def _go(self, step: Step, message: str = "") -> None:
        self.step = step
        self.message = message
        await self.redraw()
        self._focus()

    def action_back(self) -> None:
        self.dismiss()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button.id
        if button == "back":
            self.dismiss()
        elif button == "block":
            await self._go("pin")
        elif button == "new-badge":
            from kiosk.screens.badge import BadgeScreen

            self.dismiss()
            self.app.push_screen(BadgeScreen())

    @on(Keypad.Submitted, "#pin")
    def _pin_typed(self, event: Keypad.Submitted) -> None:
        event.stop()
        self.show_message(_("Blocking your badge…"))
        self.set_busy(True)
        self._block(event.value)

    @work(exclusive=True, exit_on_error=False, group="api")
    async def _block(self, pin: str) -> None:
        await self.kiosk.api().block_badge(pin)
        await self._go("done")

    def on_problem(self, error: BaseException | None) -> None:
        super().on_problem(error)
        if problem_code(error) in ("pin-incorrect", "pin-malformed"):
            self.call_later(self._go, "pin", self.message)
