"""The person's orders ("Commandes en cours"): those in progress with their state and pickup
number (a paid one can be cancelled and is refunded at once), then past ones."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Static

from kiosk.api.errors import ApiError
from kiosk.api.retry import is_retryable, send_money
from kiosk.i18n import N_, _, get_language
from kiosk.money import format_money
from kiosk.problems import describe_error, problem_code
from kiosk.screens.base import KioskScreen
from kiosk.screens.confirm_money import ConfirmMoneyScreen
from kiosk.text import plain

if TYPE_CHECKING:
    from kiosk.api.models import Money, OrderSummary

STATE_LABELS: dict[str, str] = {
    "created": N_("Created"),
    "paid": N_("Paid"),
    "in_preparation": N_("In preparation"),
    "ready": N_("Ready to collect"),
    "collected": N_("Collected"),
    "cancelled": N_("Cancelled"),
}

NOT_CANCELLABLE_REASONS: dict[str, str] = {
    "preparation_started": N_("Its preparation has started."),
    "collected": N_("It was already collected."),
    "already_cancelled": N_("It was already cancelled."),
    "cutoff_passed": N_("The time to cancel it has passed."),
}


def _money(money: Money) -> str:
    return format_money(money.amount_cents, money.currency, get_language())


def order_text(order: OrderSummary) -> str:
    """`N°42 · Paid · 8,50 € — Plat du jour ×1, Café ×2` (names made plain)."""
    lines = ", ".join(f"{plain(line.name, max_length=30)} ×{line.quantity}" for line in order.lines)
    head = _("No. {number}").format(number=order.pickup_number)
    state = _(STATE_LABELS.get(order.state, order.state))
    return f"{head} · {state} · {_money(order.total)} — {lines}"


class OrdersScreen(KioskScreen):
    """Orders in progress (with Cancel on those that may be) and past orders."""

    AUTO_FOCUS = "#back"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="orders.back"),
    ]

    def __init__(self, *, retry_delays: tuple[float, ...] | None = None) -> None:
        super().__init__()
        self.retry_delays = retry_delays
        self.active: list[OrderSummary] | None = None
        """Orders in progress, once loaded."""
        self.past: list[OrderSummary] = []
        """The latest past orders."""
        self.outcome = ""
        """The last cancellation's outcome, kept across reloads."""

    def compose(self) -> ComposeResult:
        with Vertical(id="orders-body", classes="panel"):
            yield Static(_("My orders"), classes="title", markup=False)
            with VerticalScroll(id="orders-list"):
                yield from self._order_widgets()
            if self.outcome:
                yield Static(Content(self.outcome), id="orders-outcome", markup=False)
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back")
                yield Button(_("New order"), id="new-order", variant="primary")

    def _order_widgets(self) -> ComposeResult:
        if self.active is None:
            yield Static(_("Loading…"), markup=False)
            return
        yield Static(_("In progress"), classes="orders-heading", markup=False)
        if not self.active:
            yield Static(_("No order in progress."), classes="hint", markup=False)
        for order in self.active:
            with Horizontal(classes="order-row"):
                yield Static(Content(order_text(order)), classes="order-text", markup=False)
                if order.cancellable:
                    yield Button(
                        _("Cancel"), id=f"cancel-{order.id}", variant="error", compact=True
                    )
        yield Static(_("Past orders"), classes="orders-heading", markup=False)
        if not self.past:
            yield Static(_("No past orders."), classes="hint", markup=False)
        for order in self.past:
            yield Static(Content(order_text(order)), classes="order-past", markup=False)

    async def on_screen_resume(self) -> None:
        # Shown first, and back from a new order or a confirmation: the lists as they are now.
        self.reload()

    def reload(self) -> None:
        """Fetch both lists again."""
        self._load()

    @work(exclusive=True, exit_on_error=False, group="orders")
    async def _load(self) -> None:
        api = self.kiosk.api()
        active = await api.orders(state="active")
        past = await api.orders(state="past")
        self.active = list(active.items)
        self.past = list(past.items)
        await self.redraw()

    # Cancelling -----------------------------------------------------------------------------

    def _ask_cancel(self, order: OrderSummary) -> None:
        screen = ConfirmMoneyScreen(
            _("Cancel order No. {number}?").format(number=order.pickup_number),
            _money(order.total),
            [_("This amount will be refunded to your balance.")],
            confirm_label=_("Cancel the order"),
            back_label=_("Keep the order"),
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                # A new key for this cancellation, reused by its retries.
                self._cancel(order.id, order.pickup_number, str(uuid.uuid4()))

        self.app.push_screen(screen, confirmed)

    @work(exclusive=True, exit_on_error=False, group="cancel")
    async def _cancel(self, order_id: int, number: int, key: str) -> None:
        api = self.kiosk.api()
        self.show_message(_("Cancelling…"))
        try:
            receipt = await send_money(
                lambda: api.cancel_order(order_id, key),
                on_retry=lambda _attempt: self.show_message(
                    _("We could not confirm the request; retrying…")
                ),
                delays=self.retry_delays,
            )
        except ApiError as error:
            self.outcome = ""
            if is_retryable(error):
                self.show_message(
                    _("We could not confirm the cancellation. Check the order's state below.")
                )
            elif problem_code(error) == "order-not-cancellable":
                self.show_message(self._refusal(error))
            else:
                self.show_message(describe_error(error))
            self.reload()
            return
        session = self.kiosk.session
        if session is not None:
            session.balance_cents = receipt.balance_after.amount_cents
        self.message = ""
        self.outcome = _(
            "Order No. {number} cancelled. Refunded {refund}; your balance: {balance}."
        ).format(
            number=number, refund=_money(receipt.refund), balance=_money(receipt.balance_after)
        )
        self.reload()

    @staticmethod
    def _refusal(error: BaseException) -> str:
        from kiosk.api.errors import ProblemError

        reason = ""
        if isinstance(error, ProblemError):
            for field in error.errors:
                if field.field == "reason":
                    reason = field.message
        text = _("This order can no longer be cancelled.")
        if reason in NOT_CANCELLABLE_REASONS:
            text = text + " " + _(NOT_CANCELLABLE_REASONS[reason])
        return text

    # Buttons --------------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button.id or ""
        if button == "back":
            self.dismiss()
        elif button == "new-order":
            from kiosk.screens.order_new import OrderNewScreen

            self.app.push_screen(OrderNewScreen())
        elif button.startswith("cancel-") and self.active is not None:
            order_id = int(button.removeprefix("cancel-"))
            for order in self.active:
                if order.id == order_id:
                    self._ask_cancel(order)

    def action_back(self) -> None:
        self.dismiss()
