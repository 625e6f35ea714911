"""One ticket: when and where, its lines (item, quantity, unit price, line total), the VAT summary
per rate (base, VAT, total) and the totals."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Static

from kiosk.format import KIND_LABELS, format_when, site_zone
from kiosk.i18n import _, get_language
from kiosk.money import format_money, signed_money
from kiosk.screens.base import KioskScreen
from kiosk.text import plain

if TYPE_CHECKING:
    from kiosk.api.models import Money, TicketDetail

ITEM_WIDTH = 30


def _money(money: Money) -> str:
    return format_money(money.amount_cents, money.currency, get_language())


def format_rate(rate_bp: int) -> str:
    """`550` → `5,5 %` (French) / `5.5 %`."""
    from babel.numbers import format_decimal

    return f"{format_decimal(Decimal(rate_bp) / 100, locale=get_language())} %"


def ticket_lines(ticket: TicketDetail) -> list[str]:
    """The ticket as aligned plain lines (text from the service made plain)."""
    # The labels are looked up outside the f-string: the catalog's extractor does not read
    # calls inside f-strings, and they stayed English on a French ticket.
    what, quantity, unit, total = _("Item"), _("Qty"), _("Unit price"), _("Total")
    rows = [f"{what:<{ITEM_WIDTH}} {quantity:>4} {unit:>12} {total:>12}"]
    for line in ticket.lines:
        item = plain(line.item, max_length=ITEM_WIDTH)
        rows.append(
            f"{item:<{ITEM_WIDTH}} {line.quantity:>4} {_money(line.unit_price):>12} "
            f"{_money(line.line_total):>12}"
        )
    return rows


def vat_lines(ticket: TicketDetail) -> list[str]:
    """One line per VAT rate: base, VAT, total."""
    rate_head, base_head, vat_head, total_head = _("VAT rate"), _("Base"), _("VAT"), _("Total")
    rows = [f"{rate_head:<10} {base_head:>12} {vat_head:>12} {total_head:>12}"]
    for rate in ticket.vat:
        rows.append(
            f"{format_rate(rate.rate_bp):<10} {_money(rate.base):>12} {_money(rate.vat):>12} "
            f"{_money(rate.total):>12}"
        )
    return rows


class TicketDetailScreen(KioskScreen):
    """Shows one ticket, fetched when the screen opens."""

    AUTO_FOCUS = "#back"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="ticket_detail.back"),
    ]

    def __init__(self, ticket_id: int) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        """Which ticket."""
        self.ticket: TicketDetail | None = None
        """The ticket once loaded."""

    def compose(self) -> ComposeResult:
        with Vertical(id="ticket-body", classes="panel"):
            yield Static(_("Ticket"), classes="title", markup=False)
            with VerticalScroll(id="ticket-content"):
                yield from self._ticket_widgets()
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back", compact=True)

    def _ticket_widgets(self) -> ComposeResult:
        ticket = self.ticket
        if ticket is None:
            yield Static(_("Loading…"), id="ticket-loading", markup=False)
            return
        session = self.kiosk.session
        zone = site_zone(session.time_zone if session is not None else "")
        label = _(KIND_LABELS[ticket.kind]) if KIND_LABELS.get(ticket.kind) else ""
        head = f"{format_when(ticket.created_at, zone)} · {plain(ticket.place, max_length=40)}"
        yield Static(Content(head), id="ticket-head", markup=False)
        if label:
            yield Static(Content(label), id="ticket-kind", markup=False)
        yield Static(Content("\n".join(ticket_lines(ticket))), id="ticket-lines", markup=False)
        if ticket.vat:
            yield Static(Content("\n".join(vat_lines(ticket))), id="ticket-vat", markup=False)
        total = _("Total: {amount}").format(amount=_money(ticket.total))
        effect = _("On your balance: {amount}").format(
            amount=signed_money(ticket.amount.amount_cents, ticket.amount.currency)
        )
        after = _("Balance after: {amount}").format(amount=_money(ticket.balance_after))
        yield Static(Content(f"{total}\n{effect}\n{after}"), id="ticket-totals", markup=False)

    def on_mount(self) -> None:
        self.set_busy(True)
        self._load()

    @work(exclusive=True, exit_on_error=False, group="ticket")
    async def _load(self) -> None:
        self.ticket = await self.kiosk.api().ticket(self.ticket_id)
        await self.redraw()

    def action_back(self) -> None:
        self.dismiss()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.dismiss()
