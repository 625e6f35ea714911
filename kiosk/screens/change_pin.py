"""Changing one's PIN while signed in: the current PIN, then the new one twice. The new PIN
follows the activation's rules (refused at once when trivial, by the service's own rule); a
wrong current PIN counts toward the same pause and lock as at sign-in."""

from __future__ import annotations

from typing import ClassVar, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Horizontal, Vertical
from textual.widgets import Button, Static

from kiosk.i18n import _
from kiosk.problems import problem_code, problem_text
from kiosk.screens.base import IdleKind, KioskScreen
from kiosk.widgets.keypad import Keypad

Step = Literal["current", "new", "again", "done"]


class ChangePinScreen(KioskScreen):
    """Current PIN, new PIN, new PIN again; then a word that it is done."""

    IDLE: ClassVar[IdleKind] = "typing"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="change_pin.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.step: Step = "current"
        self._current: str | None = None
        self._new: str | None = None

    def compose(self) -> ComposeResult:
        titles = {
            "current": _("Type your current PIN"),
            "new": _("Choose your new PIN"),
            "again": _("Type your new PIN again"),
            "done": _("Your PIN is changed"),
        }
        with Vertical(id="change-pin-body", classes="panel"):
            yield Static(titles[self.step], classes="title", markup=False)
            if self.step == "new":
                yield Static(
                    _(
                        "6 digits. Simple PINs such as 000000, 123456 or 112233 are refused: "
                        "choose one only you know."
                    ),
                    classes="hint",
                    markup=False,
                )
            if self.step == "done":
                yield Static(
                    _("Use it from now on. You are signed out on other terminals."),
                    classes="hint",
                    markup=False,
                )
            else:
                with Center():
                    yield Keypad(6, id="pin")
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Finish") if self.step == "done" else _("Back"), id="back")

    def on_mount(self) -> None:
        self._focus()

    def _focus(self) -> None:
        for keypad in self.query(Keypad).results(Keypad):
            keypad.focus()
        if self.step == "done":
            self.query_one("#back", Button).focus()

    async def _go(self, step: Step, message: str = "") -> None:
        self.step = step
        self.message = message
        if step == "current":
            self._current = self._new = None
        elif step == "new":
            self._new = None
        await self.redraw()
        self._focus()

    def action_back(self) -> None:
        self.dismiss()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.dismiss()

    @on(Keypad.Submitted, "#pin")
    async def _typed(self, event: Keypad.Submitted) -> None:
        event.stop()
        if self.step == "current":
            self._current = event.value
            await self._go("new")
        elif self.step == "new":
            from kiosk_server.pin_rules import is_trivial_pin

            if is_trivial_pin(event.value):
                await self._go("new", problem_text("pin-too-simple"))
            elif event.value == self._current:
                await self._go("new", problem_text("pin-unchanged"))
            else:
                self._new = event.value
                await self._go("again")
        elif self.step == "again":
            if event.value != self._new:
                await self._go("new", _("The two PINs are different. Choose your new PIN again."))
                return
            self.show_message(_("Saving your PIN…"))
            self.set_busy(True)
            self._save()

    @work(exclusive=True, exit_on_error=False, group="api")
    async def _save(self) -> None:
        assert self._current is not None and self._new is not None  # noqa: S101 - step "again"
        await self.kiosk.api().change_pin(self._current, self._new)
        self._current = self._new = None
        await self._go("done")

    def on_problem(self, error: BaseException | None) -> None:
        super().on_problem(error)
        text = self.message
        code = problem_code(error)
        if code in ("pin-incorrect", "account-paused"):
            # The current PIN was wrong: type it again (the message says how many tries remain).
            self.call_later(self._go, "current", text)
        elif code in ("pin-too-simple", "pin-malformed", "pin-unchanged"):
            self.call_later(self._go, "new", text)
