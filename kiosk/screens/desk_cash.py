"""Cash at the reception desk: find the person as you type (identifier or name), enter the amount
received, confirm, and their new balance and ticket number appear at once. The day's cash, the
clerk's own and the site's, is on the screen for the till count, per clerk behind "Till count".

A confirmed amount is sent with one idempotency key, and every retry reuses it (`send_money`):
the person is credited once. When no answer comes, the screen keeps that key and the amount, and
only offers to try again with them (or to stop, with a word on checking the balance first).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from kiosk.api.errors import ApiError
from kiosk.api.retry import is_retryable, send_money
from kiosk.i18n import _, get_language, ngettext
from kiosk.money import AmountError, format_money, parse_amount
from kiosk.problems import describe_error
from kiosk.screens.base import IdleKind, KioskScreen
from kiosk.screens.confirm_money import ConfirmMoneyScreen
from kiosk.screens.top_up import AMOUNT_ERRORS
from kiosk.text import plain

if TYPE_CHECKING:
    from kiosk.api.models import AccountMatch, CashDay, TopUpOptions, TopUpReceipt

SEARCH_PAUSE_SECONDS = 0.25
"""The search waits for this pause in typing before it asks the service."""
MIN_QUERY = 2
NAME_WIDTH = 40


def _money(cents: int, currency: str) -> str:
    return format_money(cents, currency, get_language())


def _top_ups(count: int) -> str:
    return ngettext("%(n)d top-up", "%(n)d top-ups", count) % {"n": count}


def person_label(match: AccountMatch) -> str:
    """`Marie Dupont · 1001`, and why an account cannot take cash."""
    text = f"{plain(match.name, max_length=NAME_WIDTH)} · {plain(match.identifier, max_length=20)}"
    if match.status == "blocked":
        text += " — " + _("blocked")
    return text


class DeskCashScreen(KioskScreen):
    """A cash top-up at the reception desk (the signed-in person has the reception role)."""

    IDLE: ClassVar[IdleKind] = "lock"
    AUTO_FOCUS = "#cash-search"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="desk_cash.back"),
    ]

    def __init__(self, *, retry_delays: tuple[float, ...] | None = None) -> None:
        super().__init__()
        self.retry_delays = retry_delays
        self.options: TopUpOptions | None = None
        """The site's top-up range and currency (None until loaded)."""
        self.day: CashDay | None = None
        """The day's cash so far (None until loaded)."""
        self.matches: list[AccountMatch] = []
        self.more = False
        self.person: AccountMatch | None = None
        """Whom the cash is for, once picked."""
        self.receipt: TopUpReceipt | None = None
        """The last top-up recorded here."""
        self.pending: tuple[AccountMatch, int, str] | None = None
        """A confirmed top-up whose answer did not come: person, cents and its key."""
        self.searched: str | None = None
        """The last query whose matches are shown (tests wait for it)."""
        self._search_timer: Timer | None = None

    # Drawing ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="cash-body"):
            yield Static(_("Cash top-up"), id="cash-title", markup=False)
            yield Static(Content(self._day_text()), id="cash-day")
            yield Input(
                placeholder=_("Identifier or name of the person"),
                id="cash-search",
                max_length=100,
                compact=True,
            )
            yield OptionList(*self._match_options(), id="cash-matches", compact=True)
            yield Static(Content(self._person_text()), id="cash-person")
            with Horizontal(id="cash-amount-row"):
                yield Input(
                    placeholder=_("Amount received"),
                    id="cash-amount",
                    max_length=12,
                    compact=True,
                )
                yield Static(Content(self._range_text()), id="cash-range")
            yield self.message_widget()
            yield Static(Content(self._receipt_text()), id="cash-receipt")
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back", compact=True)
                yield Button(_("Till count"), id="cash-count", compact=True)
                yield Button(
                    _("Try again") if self.pending else _("Credit"),
                    id="cash-credit",
                    variant="success",
                    compact=True,
                )

    def _day_text(self) -> str:
        day = self.day
        if day is None:
            return _("Cash today: …")
        mine = self._my_total()
        own = _("you: {top_ups}, {amount}").format(
            top_ups=_top_ups(mine[0]), amount=_money(mine[1], day.total.currency)
        )
        return _("Cash today: {top_ups}, {amount} ({own})").format(
            top_ups=_top_ups(day.count),
            amount=_money(day.total.amount_cents, day.total.currency),
            own=own,
        )

    def _my_total(self) -> tuple[int, int]:
        session = self.kiosk.session
        day = self.day
        if session is None or day is None:
            return 0, 0
        for clerk in day.clerks:
            if clerk.identifier == session.identifier:
                return clerk.count, clerk.total.amount_cents
        return 0, 0

    def _match_options(self) -> list[Option]:
        options = [
            Option(Content(person_label(match)), id=f"match-{index}")
            for index, match in enumerate(self.matches)
        ]
        if self.more:
            options.append(Option(Content(_("More people match: type more.")), disabled=True))
        return options

    def _person_text(self) -> str:
        if self.person is None:
            return _("Type an identifier or a name, then pick the person.")
        return _("For: {person}").format(person=person_label(self.person))

    def _range_text(self) -> str:
        options = self.options
        if options is None:
            return ""
        return _("from {min} to {max}").format(
            min=_money(options.min.amount_cents, options.currency),
            max=_money(options.max.amount_cents, options.currency),
        )

    def _receipt_text(self) -> str:
        receipt = self.receipt
        if receipt is None:
            return ""
        return _(
            "{amount} credited to {name}. New balance: {balance}. Ticket no. {ticket}."
        ).format(
            amount=_money(receipt.amount.amount_cents, receipt.amount.currency),
            name=plain(receipt.name, max_length=NAME_WIDTH),
            balance=_money(receipt.balance_after.amount_cents, receipt.balance_after.currency),
            ticket=receipt.ticket_id,
        )

    def _redraw(self) -> None:
        self.query_one("#cash-day", Static).update(Content(self._day_text()))
        self.query_one("#cash-person", Static).update(Content(self._person_text()))
        self.query_one("#cash-range", Static).update(Content(self._range_text()))
        self.query_one("#cash-receipt", Static).update(Content(self._receipt_text()))
        self.query_one("#cash-credit", Button).label = (
            _("Try again") if self.pending else _("Credit")
        )
        for selector in ("#cash-search", "#cash-amount"):
            self.query_one(selector, Input).disabled = self.pending is not None

    # Loading ----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._load()

    @work(exclusive=True, exit_on_error=False, group="cash-load")
    async def _load(self) -> None:
        api = self.kiosk.api()
        self.options = await api.top_up_options()
        self.day = await api.reception_cash()
        self._redraw()

    # Finding the person -----------------------------------------------------------------------

    @on(Input.Changed, "#cash-search")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_PAUSE_SECONDS, self._search)

    @on(Input.Submitted, "#cash-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if len(self.matches) == 1:
            self._pick(self.matches[0])
        else:
            self.query_one("#cash-matches", OptionList).focus()

    def _search(self) -> None:
        self._fetch_matches(self.query_one("#cash-search", Input).value.strip())

    @work(exclusive=True, exit_on_error=False, group="cash-search")
    async def _fetch_matches(self, query: str) -> None:
        if len(query.replace(" ", "")) < MIN_QUERY:
            self.matches, self.more = [], False
        else:
            answer = await self.kiosk.api().reception_accounts(query)
            self.matches, self.more = list(answer.accounts), answer.more
        matches = self.query_one("#cash-matches", OptionList)
        matches.set_options(self._match_options())
        self.searched = query
        if self.matches:
            matches.highlighted = 0
        elif len(query.replace(" ", "")) >= MIN_QUERY:
            self.show_message(_("Nobody here matches “{query}”.").format(query=plain(query)))
            return
        self.show_message("")

    @on(OptionList.OptionSelected, "#cash-matches")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id or ""
        if option_id.startswith("match-"):
            self._pick(self.matches[int(option_id.removeprefix("match-"))])

    def _pick(self, match: AccountMatch) -> None:
        if match.status == "blocked":
            self.show_message(
                _("This account is blocked: it cannot be credited. Ask the site's staff.")
            )
            return
        self.person = match
        self.show_message("")
        self._redraw()
        self.query_one("#cash-amount", Input).focus()

    # Crediting --------------------------------------------------------------------------------

    @on(Input.Submitted, "#cash-amount")
    def _amount_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._credit()

    @on(Button.Pressed, "#cash-credit")
    def _credit_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if self.pending is not None:
            self._send()
        else:
            self._credit()

    def _credit(self) -> None:
        options, person = self.options, self.person
        if options is None:
            return
        if person is None:
            self.show_message(_("Pick the person first: type their identifier or name."))
            self.query_one("#cash-search", Input).focus()
            return
        try:
            cents = parse_amount(self.query_one("#cash-amount", Input).value, get_language())
        except AmountError as error:
            self.show_message(_(AMOUNT_ERRORS.get(error.reason, AMOUNT_ERRORS["invalid"])))
            return
        if not options.min.amount_cents <= cents <= options.max.amount_cents:
            self.show_message(
                _("A cash top-up is from {min} to {max}.").format(
                    min=_money(options.min.amount_cents, options.currency),
                    max=_money(options.max.amount_cents, options.currency),
                )
            )
            return
        self.show_message("")
        screen = ConfirmMoneyScreen(
            _("Credit this cash?"),
            _money(cents, options.currency),
            [
                _("To: {person}").format(person=person_label(person)),
                _("Received in cash at this desk."),
            ],
            confirm_label=_("Credit"),
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                # One key per confirmed amount: every retry of this top-up reuses it.
                self.pending = (person, cents, str(uuid.uuid4()))
                self._send()

        self.app.push_screen(screen, confirmed)

    @work(exclusive=True, exit_on_error=False, group="cash-send")
    async def _send(self) -> None:
        if self.pending is None:
            return
        person, cents, key = self.pending
        self.set_busy(True)
        self._redraw()
        self.show_message(_("Crediting…"))
        api = self.kiosk.api()
        try:
            receipt = await send_money(
                lambda: api.cash_top_up(person.identifier, cents, key),
                on_retry=self._retrying,
                delays=self.retry_delays,
            )
        except ApiError as error:
            if is_retryable(error):
                self.show_message(
                    _(
                        "We could not confirm the top-up. Press Try again: the person will not "
                        "be credited twice."
                    )
                )
            else:
                self.pending = None
                self.show_message(describe_error(error))
            self._redraw()
            return
        self.pending = None
        self.receipt = receipt
        self.person = None
        self.matches, self.more = [], False
        self.query_one("#cash-matches", OptionList).set_options([])
        self.query_one("#cash-amount", Input).value = ""
        self.query_one("#cash-search", Input).value = ""
        self.show_message("")
        self._redraw()
        self.day = await api.reception_cash()
        self._redraw()
        self.query_one("#cash-search", Input).focus()

    def _retrying(self, attempt: int) -> None:
        del attempt
        self.show_message(_("We could not confirm the top-up; retrying…"))

    # Leaving ----------------------------------------------------------------------------------

    @on(Button.Pressed, "#cash-count")
    def _count(self, event: Button.Pressed) -> None:
        event.stop()
        if self.day is not None:
            self.app.push_screen(TillCountScreen(self.day))

    @on(Button.Pressed, "#back")
    def _back_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_back()

    def action_back(self) -> None:
        if self.pending is not None:
            # Leaving drops the key: what happened to that top-up is for the person's balance
            # to say, before any second try.
            self.pending = None
            self._redraw()
            self.show_message(
                _(
                    "The last top-up was not confirmed: check the person's balance on their "
                    "tickets before crediting again."
                )
            )
            return
        self.dismiss()


class TillCountScreen(ModalScreen[None]):
    """The day's cash per clerk, for counting the till."""

    IDLE: ClassVar[IdleKind] = "lock"
    AUTO_FOCUS = "#close"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", show=False, id="till_count.close"),
    ]

    def __init__(self, day: CashDay) -> None:
        super().__init__()
        self.day = day

    def compose(self) -> ComposeResult:
        day = self.day
        currency = day.total.currency
        with Vertical(id="till-count-body", classes="panel"):
            yield Static(
                Content(_("Cash today, {day}").format(day=day.day.isoformat())),
                classes="title",
            )
            if not day.clerks:
                yield Static(Content(_("No cash top-up today.")), classes="till-count-line")
            for clerk in day.clerks:
                name = plain(clerk.name, max_length=NAME_WIDTH)
                identifier = plain(clerk.identifier, max_length=20)
                amount = _money(clerk.total.amount_cents, currency)
                line = f"{name} · {identifier} — {_top_ups(clerk.count)} — {amount}"
                yield Static(Content(line), classes="till-count-line")
            yield Static(
                Content(
                    _("In all: {top_ups}, {amount}").format(
                        top_ups=_top_ups(day.count), amount=_money(day.total.amount_cents, currency)
                    )
                ),
                id="till-count-total",
            )
            with Horizontal(classes="actions"):
                yield Button(_("Close"), id="close", variant="primary")

    def action_close(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)
