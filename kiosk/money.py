"""Money on the terminal: integer cents (the currency's minor unit) and a currency code, formatted
by Babel for the person's language, and amounts typed on a keypad parsed back to cents.

Babel is imported inside the functions: this module is imported before the welcome screen is drawn.
"""

from __future__ import annotations

import re
from decimal import Decimal

# A bound far above any top-up a site allows, so that a long run of digits is refused calmly
# instead of reaching the service as a huge integer.
MAX_AMOUNT_CENTS = 100_000_000_00

_AMOUNT = re.compile(r"(?P<units>[0-9]+)(?:[.,](?P<decimals>[0-9]*))?")


class AmountError(ValueError):
    """A typed amount that cannot be used. `reason` is a stable code the UI translates:
    `empty`, `invalid`, `negative`, `too-many-decimals` or `too-large`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def format_money(amount_cents: int, currency: str, language: str) -> str:
    """`1250, "EUR", "fr"` → `12,50 €` (Babel's no-break spaces kept); `"en"` → `€12.50`."""
    from babel.numbers import format_currency, get_currency_precision

    digits = get_currency_precision(currency)
    amount = Decimal(amount_cents).scaleb(-digits)
    return format_currency(amount, currency, locale=language)


def amount_text(amount_cents: int, language: str) -> str:
    """The amount as a person would type it back (`12,50` in French, `12.50` in English): what
    `parse_amount` reads, without currency or grouping."""
    separator = "," if language == "fr" else "."
    return f"{amount_cents // 100}{separator}{amount_cents % 100:02d}"


def parse_amount(text: str, language: str) -> int:
    """Cents from what a person typed: `12,50`, `12.50` and `12` are all accepted, whatever the
    language (a keypad may offer either separator). Zero is accepted; whether it is a sensible
    amount is for the caller to say. Raises `AmountError` for anything else."""
    del language  # Both separators are accepted in both languages; kept for later locales.
    cleaned = text.strip()
    if not cleaned:
        raise AmountError("empty")
    if cleaned[0] in "-−":
        raise AmountError("negative")
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        raise AmountError("invalid")
    decimals = match["decimals"]
    if decimals is not None and decimals == "":
        raise AmountError("invalid")
    if decimals is not None and len(decimals) > 2:
        raise AmountError("too-many-decimals")
    # Count digits before int(): a thousand-digit string would otherwise cost real time.
    if len(match["units"].lstrip("0")) > len(str(MAX_AMOUNT_CENTS)):
        raise AmountError("too-large")
    cents = int(match["units"]) * 100 + int((decimals or "").ljust(2, "0"))
    if cents > MAX_AMOUNT_CENTS:
        raise AmountError("too-large")
    return cents


def signed_money(amount_cents: int, currency: str) -> str:
    """`+20,00 €` for a credit, `-8,50 €` for a debit."""
    from kiosk.i18n import get_language

    text = format_money(amount_cents, currency, get_language())
    return f"+{text}" if amount_cents > 0 else text
