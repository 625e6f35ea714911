"""My visit requests ("Mes demandes de visite"): the signed-in person's visits, upcoming first,
each with its state; one opens its detail, "New request" opens the form."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from kiosk.format import format_days, state_label
from kiosk.i18n import _
from kiosk.screens.base import KioskScreen
from kiosk.text import plain

if TYPE_CHECKING:
    from kiosk.api.models import VisitSummary

NAMES_WIDTH = 34


def visit_row(visit: VisitSummary) -> Content:
    """One line of the list: days, arrival window, visitors, state."""
    names = plain(", ".join(visit.visitor_names), max_length=NAMES_WIDTH)
    days = format_days(visit.first_day, visit.last_day)
    window = f"{visit.arrival_from:%H:%M}–{visit.arrival_until:%H:%M}"
    return Content(f"{days:<26} {window:<12} {names:<{NAMES_WIDTH}} {state_label(visit.state)}")


class VisitsScreen(KioskScreen):
    """The person's visit requests."""

    AUTO_FOCUS = "#visit-list"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="visits.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.visits: list[VisitSummary] | None = None
        """The person's visits, as the service orders them (None until loaded)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="visits-body"):
            yield Static(_("My visit requests"), classes="title", markup=False)
            yield OptionList(*self._options(), id="visit-list")
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back")
                yield Button(_("New request"), id="new-visit", variant="primary")

    def _options(self) -> list[Option]:
        if self.visits is None:
            return [Option(Content(_("Loading…")), disabled=True)]
        if not self.visits:
            return [Option(Content(_("No visit requests yet.")), disabled=True)]
        return [Option(visit_row(visit), id=f"visit-{visit.id}") for visit in self.visits]

    async def on_screen_resume(self) -> None:
        # Shown first and back from a detail or the form: what the service says now.
        await super().on_screen_resume()
        self.load()

    def load(self) -> None:
        """Fetch the person's visits."""
        self._load()

    @work(exclusive=True, exit_on_error=False, group="visits")
    async def _load(self) -> None:
        answer = await self.kiosk.api().visits()
        self.visits = list(answer.items)
        visit_list = self.query_one("#visit-list", OptionList)
        visit_list.set_options(self._options())
        if self.visits:
            visit_list.highlighted = 0

    @on(OptionList.OptionSelected, "#visit-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id or ""
        if option_id.startswith("visit-"):
            from kiosk.screens.visit_detail import VisitDetailScreen

            self.app.push_screen(VisitDetailScreen(int(option_id.removeprefix("visit-"))))

    def action_back(self) -> None:
        self.dismiss()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.dismiss()
        elif event.button.id == "new-visit":
            from kiosk.screens.visit_form import VisitFormScreen

            self.app.push_screen(VisitFormScreen())
