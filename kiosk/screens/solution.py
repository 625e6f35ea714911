"""Step 1 of signing in on a terminal that serves several sites: the site's solution code."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from kiosk.i18n import _
from kiosk.problems import problem_text
from kiosk.screens.base import KioskScreen, SignIn


class SolutionScreen(KioskScreen):
    """Asks for the solution code; checked against the sites this terminal serves."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="solution.back"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="solution-body", classes="panel"):
            yield Static(_("Enter the code of your solution"), classes="title", markup=False)
            yield Static(
                _("Your solution code is in the welcome letter of your site."),
                classes="hint",
                markup=False,
            )
            yield Input(id="solution-code", placeholder=_("Solution code"), max_length=32)
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back")
                yield Button(_("Continue"), id="continue", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#solution-code", Input).focus()

    def action_back(self) -> None:
        self.dismiss()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._continue()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.dismiss()
        elif event.button.id == "continue":
            self._continue()

    def _continue(self) -> None:
        typed = self.query_one("#solution-code", Input).value.strip()
        if not typed:
            self.show_message(_("Type your solution code."))
            return
        site = self.kiosk.site_for_code(typed)
        if site is None:
            self.show_message(problem_text("solution-unknown"))
            return
        from kiosk.screens.identifier import IdentifierScreen

        self.app.push_screen(IdentifierScreen(SignIn(solution_code=site)))
