"""Placing an order ("Passer une commande"): the site's catalogue (name, price, allergens; items
that cannot be ordered now greyed with the reason), quantities, the basket's total and the balance
after, a confirmation, and the pickup number.

Prices are the service's: the basket total shown is computed from the catalogue's prices, and the
order sends item codes and quantities only. One idempotency key per confirmed basket.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Digits, Static

from kiosk.api.errors import ApiError
from kiosk.api.retry import is_retryable, send_money
from kiosk.i18n import N_, _, get_language
from kiosk.money import format_money
from kiosk.problems import describe_error
from kiosk.screens.base import KioskScreen
from kiosk.screens.confirm_money import ConfirmMoneyScreen
from kiosk.text import plain

if TYPE_CHECKING:
    from kiosk.api.models import Catalogue, CatalogueItem, OrderReceipt

Phase = Literal["loading", "basket", "sending", "unconfirmed", "placed"]

MAX_QUANTITY = 20
"""The service's limit per item."""

ALLERGENS: dict[str, str] = {
    "gluten": N_("gluten"),
    "crustaceans": N_("crustaceans"),
    "eggs": N_("eggs"),
    "fish": N_("fish"),
    "peanuts": N_("peanuts"),
    "soybeans": N_("soybeans"),
    "milk": N_("milk"),
    "nuts": N_("nuts"),
    "celery": N_("celery"),
    "mustard": N_("mustard"),
    "sesame": N_("sesame"),
    "sulphites": N_("sulphites"),
    "lupin": N_("lupin"),
    "molluscs": N_("molluscs"),
}

NAME_MAX = 200
"""A dish's name as the catalogue may hold it: shown whole, wrapped in its column."""

UNAVAILABLE: dict[str, str] = {
    "sold_out": N_("sold out"),
    "deadline_passed": N_("ordering deadline passed"),
    "not_now": N_("not available now"),
}


def allergen_text(codes: list[str]) -> str:
    """`Allergens: gluten, milk` translated; unknown codes are shown as plain text."""
    names = [_(ALLERGENS[code]) if code in ALLERGENS else plain(code) for code in codes]
    return _("Allergens: {names}").format(names=", ".join(names)) if names else ""


class OrderNewScreen(KioskScreen):
    """Catalogue → basket → confirmation → pickup number."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="order_new.back"),
    ]

    def __init__(self, *, retry_delays: tuple[float, ...] | None = None) -> None:
        super().__init__()
        self.retry_delays = retry_delays
        self.catalogue: Catalogue | None = None
        """The site's items, once loaded."""
        self.quantities: dict[str, int] = {}
        """Item code → quantity in the basket."""
        self.phase: Phase = "loading"
        self.idempotency_key: str | None = None
        """The key of the confirmed basket, reused by its retries."""
        self.receipt: OrderReceipt | None = None
        """The order once placed."""

    # Drawing --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="order-body", classes="panel"):
            yield Static(_("Place an order"), classes="title", markup=False)
            yield from getattr(self, f"_compose_{self.phase}")()
            yield self.message_widget()

    def _compose_loading(self) -> ComposeResult:
        yield Static(_("Loading…"), classes="hint", markup=False)
        with Horizontal(classes="actions"):
            yield Button(_("Back"), id="back")

    def _compose_basket(self) -> ComposeResult:
        catalogue = self.catalogue
        if catalogue is None:
            return
        with VerticalScroll(id="order-items"):
            if not catalogue.items:
                yield Static(_("Nothing is on sale here today."), classes="hint", markup=False)
            for index, item in enumerate(catalogue.items):
                yield from self._item_row(index, item)
        yield Static(Content(self._basket_text()), id="order-total", markup=False)
        with Horizontal(classes="actions"):
            yield Button(_("Back"), id="back")
            yield Button(_("Order"), id="place", variant="success")

    def _item_row(self, index: int, item: CatalogueItem) -> ComposeResult:
        price = format_money(item.price.amount_cents, item.price.currency, get_language())
        # The whole name, wrapped in its column (a long dish name was cut at 40 characters).
        text = f"{plain(item.name_in(get_language()), max_length=NAME_MAX)} · {price}"
        if not item.available:
            # In words, not only greyed: the reason, or that it cannot be ordered now.
            reason = UNAVAILABLE[item.reason or "not_now"]
            text += " · " + _(reason)
        allergens = allergen_text(item.allergens)
        if allergens:
            text += f"\n{allergens}"
        classes = "order-item" if item.available else "order-item -unavailable"
        with Horizontal(classes=classes):
            yield Static(Content(text), classes="order-item-text", markup=False)
            # Not disabled when unavailable: pressed, they say why (the row is greyed).
            yield Button("−", id=f"minus-{index}", classes="minus", compact=True)
            yield Static(
                str(self.quantities.get(item.code, 0)),
                id=f"qty-{index}",
                classes="order-qty",
                markup=False,
            )
            yield Button("+", id=f"plus-{index}", classes="plus", compact=True)

    def _compose_sending(self) -> ComposeResult:
        yield Static(Content(self._basket_text()), id="order-total", markup=False)

    def _compose_unconfirmed(self) -> ComposeResult:
        yield Static(Content(self._basket_text()), id="order-total", markup=False)
        with Horizontal(classes="actions"):
            yield Button(_("Back"), id="back")
            yield Button(_("Try again"), id="retry", variant="primary")

    def _compose_placed(self) -> ComposeResult:
        receipt = self.receipt
        if receipt is None:
            return
        yield Static(_("Your order is paid. Your pickup number:"), markup=False)
        yield Digits(str(receipt.pickup_number), id="order-pickup")
        balance = format_money(
            receipt.balance_after.amount_cents, receipt.balance_after.currency, get_language()
        )
        yield Static(
            Content(_("Your balance: {amount}").format(amount=balance)),
            id="order-balance",
            markup=False,
        )
        with Horizontal(classes="actions"):
            yield Button(_("Done"), id="back", variant="primary")

    def _total_cents(self) -> int:
        if self.catalogue is None:
            return 0
        return sum(
            item.price.amount_cents * self.quantities.get(item.code, 0)
            for item in self.catalogue.items
        )

    def _currency(self) -> str:
        if self.catalogue is not None:
            return self.catalogue.currency
        session = self.kiosk.session
        return session.currency if session is not None else "EUR"

    def _basket_text(self) -> str:
        currency = self._currency()
        total = self._total_cents()
        text = _("Basket: {amount}").format(amount=format_money(total, currency, get_language()))
        session = self.kiosk.session
        if session is not None and session.balance_cents is not None:
            after = format_money(session.balance_cents - total, currency, get_language())
            text += " · " + _("balance after: {amount}").format(amount=after)
        return text

    async def _go(self, phase: Phase, message: str = "") -> None:
        self.phase = phase
        self.message = message
        await self.redraw()
        for selector in ("#plus-0", "#retry", "#back"):
            found = self.query(selector)
            if found and not found.first().disabled:
                found.first().focus()
                return

    # Flow -----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._load()

    @work(exclusive=True, exit_on_error=False, group="order")
    async def _load(self) -> None:
        self.catalogue = await self.kiosk.api().catalogue()
        await self._go("basket")

    def _change(self, index: int, delta: int) -> None:
        catalogue = self.catalogue
        if catalogue is None or not 0 <= index < len(catalogue.items):
            return
        item = catalogue.items[index]
        if not item.available:
            reason = UNAVAILABLE.get(item.reason) if item.reason is not None else None
            self.show_message(
                _("Not available: {reason}.").format(reason=_(reason))
                if reason
                else _("This is not available now.")
            )
            return
        wanted = max(0, self.quantities.get(item.code, 0) + delta)
        quantity = min(MAX_QUANTITY, wanted)
        if item.stock is not None:
            quantity = min(quantity, item.stock)
        if quantity < wanted:
            self.show_message(_("No more of this one can be ordered."))
        else:
            self.show_message("")
        if quantity:
            self.quantities[item.code] = quantity
        else:
            self.quantities.pop(item.code, None)
        self.query_one(f"#qty-{index}", Static).update(str(quantity))
        self.query_one("#order-total", Static).update(Content(self._basket_text()))

    def _lines(self) -> list[tuple[str, int]]:
        catalogue = self.catalogue
        if catalogue is None:
            return []
        return [
            (item.code, self.quantities[item.code])
            for item in catalogue.items
            if self.quantities.get(item.code)
        ]

    def _ask_confirmation(self) -> None:
        catalogue = self.catalogue
        total = self._total_cents()
        if catalogue is None:
            return
        if total == 0:
            self.show_message(_("Your basket is empty: add a dish with +."))
            return
        session = self.kiosk.session
        if (
            session is not None
            and session.balance_cents is not None
            and session.balance_cents - total < -session.overdraft_limit_cents
        ):
            # Said before the pay dialog, which would show a balance the service then refuses.
            balance = format_money(session.balance_cents, catalogue.currency, get_language())
            self.show_message(
                _("Your balance ({amount}) is not enough for this basket. Top up first.").format(
                    amount=balance
                )
            )
            return
        names = {
            item.code: plain(item.name_in(get_language()), max_length=40)
            for item in catalogue.items
        }
        details = [f"{names[code]} ×{quantity}" for code, quantity in self._lines()]
        session = self.kiosk.session
        if session is not None and session.balance_cents is not None:
            after = format_money(session.balance_cents - total, catalogue.currency, get_language())
            details.append(_("Balance after: {amount}").format(amount=after))
        screen = ConfirmMoneyScreen(
            _("Pay this order from your balance?"),
            format_money(total, catalogue.currency, get_language()),
            details,
            confirm_label=_("Pay"),
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                # One key per confirmed basket: every retry of it reuses this key.
                self.idempotency_key = str(uuid.uuid4())
                self._place(self._lines(), self.idempotency_key)

        self.app.push_screen(screen, confirmed)

    @work(exclusive=True, exit_on_error=False, group="order")
    async def _place(self, lines: list[tuple[str, int]], key: str) -> None:
        await self._go("sending", _("Sending your order…"))
        api = self.kiosk.api()
        try:
            receipt = await send_money(
                lambda: api.place_order(lines, key),
                on_retry=lambda _attempt: self.show_message(
                    _("We could not confirm the request; retrying…")
                ),
                delays=self.retry_delays,
            )
        except ApiError as error:
            if is_retryable(error):
                await self._go(
                    "unconfirmed",
                    _("We could not confirm your order. Try again: you will not be charged twice."),
                )
            else:
                # Refused: nothing was charged; the basket stays as it was, the catalogue is
                # fetched again (an item may have sold out meanwhile).
                self.catalogue = await api.catalogue()
                await self._go("basket", describe_error(error))
            return
        self.receipt = receipt
        session = self.kiosk.session
        if session is not None:
            session.balance_cents = receipt.balance_after.amount_cents
        await self._go("placed")

    # Buttons --------------------------------------------------------------------------------

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss()

    @on(Button.Pressed, ".plus, .minus")
    def _quantity(self, event: Button.Pressed) -> None:
        index = int((event.button.id or "").rsplit("-", 1)[1])
        self._change(index, 1 if event.button.has_class("plus") else -1)

    @on(Button.Pressed, "#place")
    def _place_pressed(self) -> None:
        self._ask_confirmation()

    @on(Button.Pressed, "#retry")
    def _retry(self) -> None:
        if self.idempotency_key is not None:
            self._place(self._lines(), self.idempotency_key)

    def action_back(self) -> None:
        if self.phase != "sending":
            self.dismiss()
