"""The monthly statement ("Relevé mensuel"): a month of the person's account in the site's
calendar, from the opening to the closing balance, with the VAT of what was bought. Earlier
and later months are a key away (not a month that has not begun)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from kiosk.format import month_names
from kiosk.i18n import _, get_language
from kiosk.money import format_money
from kiosk.screens.base import KioskScreen

if TYPE_CHECKING:
    from kiosk.api.models import Money, Statement


def _previous(month: dt.date) -> dt.date:
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _next(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


class StatementScreen(KioskScreen):
    """One month's statement; ← and → (or the buttons) move between months."""

    AUTO_FOCUS = "#previous"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="statement.back"),
        Binding("left", "month(-1)", "Previous month", show=False, id="statement.previous"),
        Binding("right", "month(1)", "Next month", show=False, id="statement.next"),
    ]

    def __init__(self) -> None:
        super().__init__()
        today = self.kiosk.site_time().date()
        self.current = today.replace(day=1)
        """This month: no later one can be asked for."""
        self.month = self.current
        self.statement: Statement | None = None

    def compose(self) -> ComposeResult:
        names = month_names(get_language()).wide
        title = f"{names[self.month.month - 1]} {self.month.year}"
        with Vertical(id="statement-body", classes="panel"):
            yield Static(_("Monthly statement"), classes="title", markup=False)
            with Horizontal(id="statement-months"):
                yield Button("←", id="previous", compact=True)
                yield Static(title, id="statement-month", markup=False)
                yield Button("→", id="next", compact=True, disabled=self.month >= self.current)
            yield Static(Content(self._figures()), id="statement-figures", markup=False)
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back")
                yield Button(_("Send it to me by email"), id="email", classes="while-idle")

    def _money(self, money: Money) -> str:
        return format_money(money.amount_cents, money.currency, get_language())

    def _signed(self, money: Money, sign: int) -> str:
        """`+42,50 €`, `-8,50 €`; a zero has no sign."""
        text = self._money(money)
        if not money.amount_cents:
            return text
        return ("+" if sign > 0 else "-") + text

    def _figures(self) -> str:
        statement = self.statement
        if statement is None:
            return _("Loading…")
        rows = [
            (_("Opening balance"), self._money(statement.opening_balance)),
            (
                _("Top-ups ({count})").format(count=statement.top_ups.count),
                self._signed(statement.top_ups.amount, 1),
            ),
            (
                _("Purchases ({count})").format(count=statement.purchases.count),
                self._signed(statement.purchases.amount, -1),
            ),
            (
                _("Refunds ({count})").format(count=statement.refunds.count),
                self._signed(statement.refunds.amount, 1),
            ),
        ]
        if statement.adjustments.count:
            amount = statement.adjustments.amount
            sign = "+" if amount.amount_cents >= 0 else ""
            rows.append(
                (
                    _("Adjustments ({count})").format(count=statement.adjustments.count),
                    sign + self._money(amount),
                )
            )
        rows.append((_("Closing balance"), self._money(statement.closing_balance)))
        lines = [f"{label:<32}{value:>16}" for label, value in rows]
        if statement.vat:
            lines += ["", _("VAT on purchases (net of refunds)")]
            for rate in statement.vat:
                percent = f"{rate.rate_bp / 100:g} %"
                lines.append(
                    f"  {percent:<8}"
                    + _("base {base} · VAT {vat} · total {total}").format(
                        base=self._money(rate.base),
                        vat=self._money(rate.vat),
                        total=self._money(rate.total),
                    )
                )
        return "\n".join(lines)

    def on_mount(self) -> None:
        self._load()

    @work(exclusive=True, exit_on_error=False, group="statement")
    async def _load(self) -> None:
        self.statement = await self.kiosk.api().statement(self.month)
        self.query_one("#statement-figures", Static).update(Content(self._figures()))

    @work(exclusive=True, exit_on_error=False, group="api")
    async def _email(self, month: dt.date) -> None:
        sent = await self.kiosk.api().email_statement(month)
        self.show_message(
            _("The statement is on its way to {destination} (PDF).").format(
                destination=sent.destination
            )
        )

    async def action_month(self, step: int) -> None:
        month = _previous(self.month) if step < 0 else _next(self.month)
        if month > self.current:
            return
        self.month = month
        self.statement = None
        await self.redraw()
        self.query_one("#previous" if step < 0 else "#next", Button).focus()
        self._load()

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss()

    @on(Button.Pressed, "#email")
    def _send_by_email(self) -> None:
        self.show_message(_("Sending…"))
        self.set_busy(True)
        self._email(self.month)

    @on(Button.Pressed, "#previous")
    async def _previous_month(self) -> None:
        await self.action_month(-1)

    @on(Button.Pressed, "#next")
    async def _next_month(self) -> None:
        await self.action_month(1)

    def action_back(self) -> None:
        self.dismiss()
