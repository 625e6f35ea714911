"""A visitor types the 6-character code of their invitation and their last name (when the QR
code cannot be scanned), to check in or out."""

from __future__ import annotations

import re
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from kiosk.i18n import _, get_language
from kiosk.screens.base import IdleKind, KioskScreen
from kiosk.screens.visitor_visit import VisitorVisitScreen
from kiosk.visitors import DeskCredentials, visitor_error_text

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
"""The characters of invitation codes (docs/api.md): no 0, O, 1 or I, which look alike."""
CODE_LENGTH = 6
_CODE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
_SEPARATORS = re.compile(r"[\s\-_.]+")


def normalise_code(typed: str) -> str:
    """The code as the service reads it: upper case, without spaces, dashes or dots."""
    return _SEPARATORS.sub("", typed).upper()


def code_problem(code: str) -> str | None:
    """Why `code` (normalised) cannot be an invitation code, or None when it can."""
    if not code:
        return _("Type the code of your invitation.")
    if len(code) != CODE_LENGTH:
        return _("The code has 6 characters. Check it and try again.")
    if not _CODE.fullmatch(code):
        return _(
            "The code has only letters and the digits 2 to 9 (no 0, O, 1 or I). "
            "Check it and try again."
        )
    return None


class VisitorCodeScreen(KioskScreen):
    """The invitation's code and the visitor's last name, looked up together."""

    IDLE: ClassVar[IdleKind] = "visitor"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="visitor_code.back"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="visitor-code-body", classes="panel"):
            yield Static(_("Your invitation code"), classes="title", markup=False)
            yield Static(
                _("Type the 6-character code of your invitation, then your last name."),
                classes="hint",
                markup=False,
            )
            yield Input(
                id="visitor-code-input",
                placeholder=_("Code (e.g. K7M-2QX)"),
                max_length=12,
                classes="while-idle",
            )
            yield Input(
                id="visitor-last-name",
                placeholder=_("Last name"),
                max_length=100,
                classes="while-idle",
            )
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back")
                yield Button(_("Continue"), id="continue", variant="primary", classes="while-idle")

    def on_mount(self) -> None:
        self.query_one("#visitor-code-input", Input).focus()

    def action_back(self) -> None:
        self.dismiss()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "visitor-code-input":
            # A code that cannot be one is said at once, the field kept for the correction.
            problem = code_problem(normalise_code(event.input.value))
            if problem is not None:
                self.show_message(problem)
                return
            self.show_message("")
            self.query_one("#visitor-last-name", Input).focus()
        else:
            self._continue()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.dismiss()
        elif event.button.id == "continue":
            self._continue()

    def _continue(self) -> None:
        code = normalise_code(self.query_one("#visitor-code-input", Input).value)
        last_name = self.query_one("#visitor-last-name", Input).value.strip()
        problem = code_problem(code)
        if problem is None and not last_name:
            problem = _("Type your last name.")
        if problem is not None:
            self.show_message(problem)
            return
        self.show_message(_("Looking for your visit…"))
        self.set_busy(True)
        self.look_up(DeskCredentials(code=code, last_name=last_name))

    @work(exclusive=True, exit_on_error=False, group="api")
    async def look_up(self, credentials: DeskCredentials) -> None:
        """Ask the service for the visit, then show it in place of this screen."""
        visit = await self.kiosk.api().desk_lookup(
            language=get_language(), **credentials.as_arguments()
        )
        self.app.switch_screen(VisitorVisitScreen(credentials, visit))

    def on_problem(self, error: BaseException | None) -> None:
        self.show_message(visitor_error_text(error))
