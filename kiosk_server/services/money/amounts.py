"""Amounts as the API sends them (`money`) and as a person reads them (`shown`)."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

from kiosk_server.models import Site
from kiosk_server.schemas import Money


def money(cents: int, currency: str) -> Money:
    """The API's amount: integer cents and the currency code."""
    return Money(amount_cents=cents, currency=currency)


def shown(cents: int, site: Site) -> str:
    """`12,50 €` on a French site, `€12.50` on an English one: for messages to people."""
    return format_currency(Decimal(cents) / 100, site.currency, locale=site.locale)
