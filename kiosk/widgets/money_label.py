"""A label showing an amount of money, formatted for the current language."""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.reactive import Reactive, reactive
from textual.widgets import Static

from kiosk.i18n import get_language
from kiosk.money import format_money


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in integer cents (the currency's minor unit) and its currency code."""

    amount_cents: int
    currency: str


class MoneyLabel(Static):
    """Shows `money` formatted by `format_money` for the current language; empty when None."""

    money: Reactive[Money | None] = reactive(None)
    """The amount shown; None shows nothing."""

    def __init__(self, money: Money | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.set_reactive(MoneyLabel.money, money)

    def on_mount(self) -> None:
        self.update(self._text())

    def watch_money(self) -> None:
        self.update(self._text())

    def _text(self) -> Content:
        if self.money is None:
            return Content("")
        return Content(format_money(self.money.amount_cents, self.money.currency, get_language()))
