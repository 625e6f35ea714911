"""The ticket history ("Historique des tickets"): newest first, grouped by month, loaded a page at
a time as the person scrolls.

The rows live in one `OptionList`, which draws only the lines in view (options are data, not
widgets): ten thousand tickets are ten thousand small objects, never ten thousand widgets. The
next page is fetched when the cursor or the scroll position comes near the end of what is loaded.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from kiosk.format import KIND_LABELS, format_month, format_when, site_zone
from kiosk.i18n import _, get_language
from kiosk.money import format_money, signed_money
from kiosk.screens.base import KioskScreen
from kiosk.text import plain

if TYPE_CHECKING:
    from kiosk.api.models import TicketSummary

PAGE_SIZE = 30
"""Tickets asked for at a time."""
PREFETCH_ROWS = 12
"""Fetch the next page when the cursor or the bottom of the view is this close to the end (or
a view's height, when that is more)."""
PLACE_WIDTH = 24


class TicketRow(NamedTuple):
    """What the list keeps of a ticket to draw its row (again, in another language).

    A tuple of plain values, not the API's model: ten thousand rows of pydantic models are
    120,000 more objects for the cycle collector to walk on every full collection (each pause
    stops the UI and the embedded service alike), while a tuple of atoms is not tracked at all.
    """

    id: int
    kind: str
    created_at: dt.datetime
    place: str
    amount_cents: int
    balance_after_cents: int
    currency: str

    @classmethod
    def of(cls, ticket: TicketSummary) -> TicketRow:
        return cls(
            ticket.id,
            ticket.kind,
            ticket.created_at,
            ticket.place,
            ticket.amount.amount_cents,
            ticket.balance_after.amount_cents,
            ticket.balance_after.currency,
        )


def ticket_row(ticket: TicketRow, zone: dt.tzinfo) -> Content:
    """One line of the history: when, where, what kind, the signed amount, the balance after."""
    when = format_when(ticket.created_at, zone)
    place = plain(ticket.place, max_length=PLACE_WIDTH)
    label = _(KIND_LABELS[ticket.kind]) if KIND_LABELS.get(ticket.kind) else ""
    amount = signed_money(ticket.amount_cents, ticket.currency)
    balance = format_money(ticket.balance_after_cents, ticket.currency, get_language())
    text = f"{when:<15} {place:<{PLACE_WIDTH}} {label:<14} {amount:>12}   " + _(
        "balance {amount}"
    ).format(amount=balance)
    return Content(text)


class TicketsScreen(KioskScreen):
    """The person's tickets; Enter or a click opens one."""

    AUTO_FOCUS = "#ticket-list"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="tickets.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.tickets: list[TicketRow] = []
        """What is loaded so far, newest first."""
        self.next_cursor: str | None = None
        """Where the next page starts; None once the last page is loaded."""
        self.complete = False
        """True once the last page is loaded."""
        self.fetching = False
        """True while a page is being fetched (not `loading`: that is Textual's own reactive)."""
        self.pages_loaded = 0
        """Pages fetched so far (the benchmark and the tests read it)."""
        self._month: str | None = None
        self._zone: dt.tzinfo = dt.UTC
        self._status_shown = ""

    def compose(self) -> ComposeResult:
        session = self.kiosk.session
        self._zone = site_zone(session.time_zone if session is not None else "")
        with Vertical(id="tickets-body"):
            yield Static(_("Ticket history"), classes="title", markup=False)
            yield OptionList(*self._options_for(self.tickets, reset=True), id="ticket-list")
            self._status_shown = self._status_text()
            yield Static(Content(self._status_shown), id="tickets-status", markup=False)
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back", compact=True)

    def on_mount(self) -> None:
        self._watch_list()
        if not self.tickets:
            self.load_more()

    async def relabel(self) -> None:
        await super().relabel()
        self._watch_list()

    def _watch_list(self) -> None:
        self.watch(self.query_one("#ticket-list", OptionList), "scroll_y", self._scrolled)

    # Loading --------------------------------------------------------------------------------

    def load_more(self) -> None:
        """Fetch the next page, unless one is on its way or the end is reached."""
        if self.fetching or self.complete:
            return
        self.fetching = True
        self._show_status()
        self._fetch_page(self.next_cursor)

    @work(exclusive=True, exit_on_error=False, group="tickets")
    async def _fetch_page(self, cursor: str | None) -> None:
        page = await self.kiosk.api().tickets(cursor, limit=PAGE_SIZE)
        self.fetching = False
        self.pages_loaded += 1
        self.next_cursor = page.next_cursor
        self.complete = page.next_cursor is None
        rows = [TicketRow.of(ticket) for ticket in page.items]
        self.tickets.extend(rows)
        ticket_list = self.query_one("#ticket-list", OptionList)
        ticket_list.add_options(self._options_for(rows))
        if ticket_list.highlighted is None and ticket_list.option_count:
            # The list could not take the focus while empty: give it now, on the newest row.
            ticket_list.action_first()
            ticket_list.focus()
        self._show_status()
        if self.message:
            self.show_message("")
        # A short first page may not fill the view: keep going until it does.
        self.call_after_refresh(self._maybe_more)

    def on_problem(self, error: BaseException | None) -> None:
        self.fetching = False
        self._show_status()
        super().on_problem(error)

    def _options_for(self, tickets: list[TicketRow], *, reset: bool = False) -> list[Option]:
        if reset:
            self._month = None
        options: list[Option] = []
        for ticket in tickets:
            month = format_month(ticket.created_at, self._zone)
            if month != self._month:
                self._month = month
                options.append(Option(Content.styled(month, "bold"), disabled=True))
            options.append(Option(ticket_row(ticket, self._zone), id=f"ticket-{ticket.id}"))
        return options

    def _status_text(self) -> str:
        if self.fetching:
            return _("Loading…")
        if self.complete and not self.tickets:
            return _("No tickets yet.")
        if self.complete:
            return _("End of your history.")
        return ""

    def _show_status(self) -> None:
        text = self._status_text()
        if text == self._status_shown:
            return
        self._status_shown = text
        # One line whatever it says (see the .tcss): no new layout of the screen for it.
        for status in self.query("#tickets-status").results(Static):
            status.update(Content(text), layout=False)

    def _near_end(self) -> bool:
        ticket_list = self.query_one("#ticket-list", OptionList)
        count = ticket_list.option_count
        view = ticket_list.scrollable_content_region.height
        # At least a view's height ahead: a Page Down then lands on rows already loaded.
        margin = max(PREFETCH_ROWS, view)
        highlighted = ticket_list.highlighted
        if highlighted is not None and highlighted >= count - margin:
            return True
        return ticket_list.scroll_y + view >= ticket_list.virtual_size.height - margin

    def _maybe_more(self) -> None:
        if self.is_mounted and self._near_end():
            self.load_more()

    def _scrolled(self, _scroll_y: float) -> None:
        self._maybe_more()

    @on(OptionList.OptionHighlighted, "#ticket-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._maybe_more()

    # Opening one ----------------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#ticket-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id
        if option_id is None or not option_id.startswith("ticket-"):
            return
        from kiosk.screens.ticket_detail import TicketDetailScreen

        self.app.push_screen(TicketDetailScreen(int(option_id.removeprefix("ticket-"))))

    def action_back(self) -> None:
        self.dismiss()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.dismiss()
