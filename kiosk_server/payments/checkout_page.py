"""The sandbox's checkout page: plain HTML with two forms (Pay, Decline), no JavaScript.

Everything that comes from elsewhere (the description holds the site's name) is HTML-escaped.
The page is in the payment's language (French for `fr_*`, English otherwise).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import escape

from babel.numbers import format_currency

from kiosk_server.db import as_utc
from kiosk_server.i18n import language_of
from kiosk_server.models import SandboxPayment

_TEXT = {
    "fr": {
        "title": "Paiement de test",
        "banner": "Bac à sable : aucun argent réel n'est débité.",
        "pay": "Payer",
        "decline": "Refuser",
        "pending": "Choisissez Payer ou Refuser.",
        "succeeded": "Paiement accepté. Vous pouvez revenir à la borne.",
        "failed": "Paiement refusé.",
        "cancelled": "Paiement annulé.",
        "expired": "Ce lien de paiement a expiré.",
        "until": "Valable jusqu'à {time}.",
        "unknown": "Ce lien de paiement est inconnu.",
    },
    "en": {
        "title": "Test payment",
        "banner": "Sandbox: no real money is taken.",
        "pay": "Pay",
        "decline": "Decline",
        "pending": "Choose Pay or Decline.",
        "succeeded": "Payment accepted. You can go back to the kiosk.",
        "failed": "Payment declined.",
        "cancelled": "Payment cancelled.",
        "expired": "This payment link has expired.",
        "until": "Valid until {time}.",
        "unknown": "This payment link is unknown.",
    },
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}"
    ".banner{background:#fff3cd;padding:.5rem;border-radius:.3rem}"
    ".amount{font-size:2rem;font-weight:bold}"
    "form{display:inline-block;margin-right:1rem}"
    "button{font-size:1.2rem;padding:.5rem 1.5rem}"
)


def shown_state(payment: SandboxPayment, now: dt.datetime) -> str:
    """The state the page shows: a pending payment past its expiry reads as expired (the page
    changes nothing by being shown)."""
    if payment.state == "pending" and as_utc(payment.expires_at) <= now:
        return "expired"
    return payment.state


def _page(language: str, title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def _form(action: str, label: str) -> str:
    # A relative action (`<ref>/pay` from `/sandbox/checkout/<ref>`): works behind any prefix.
    return (
        f'<form method="post" action="{action}">'
        f'<button type="submit">{escape(label)}</button></form>'
    )


def render_checkout(payment: SandboxPayment, now: dt.datetime, zone: dt.tzinfo = dt.UTC) -> str:
    """The checkout page of a payment as it stands now; times in `zone` (the site's)."""
    language = language_of(payment.locale)
    text = _TEXT[language]
    try:
        amount = format_currency(
            Decimal(payment.amount_cents) / 100, payment.currency, locale=payment.locale
        )
    except ValueError:  # An unknown locale: the amount is still shown.
        amount = f"{Decimal(payment.amount_cents) / 100:.2f} {payment.currency}"
    state = shown_state(payment, now)
    parts = [
        f"<h1>{escape(text['title'])}</h1>",
        f'<p class="banner">{escape(text["banner"])}</p>',
        f'<p class="merchant">{escape(payment.description)}</p>',
        f'<p class="amount">{escape(amount)}</p>',
        f'<p class="state" data-state="{escape(state)}">{escape(text[state])}</p>',
    ]
    if state == "pending":
        until = as_utc(payment.expires_at).astimezone(zone).strftime("%H:%M")
        ref = escape(payment.ref)
        parts += [
            f"<p>{escape(text['until'].format(time=until))}</p>",
            _form(f"{ref}/pay", text["pay"]),
            _form(f"{ref}/decline", text["decline"]),
        ]
    return _page(language, text["title"], "\n".join(parts))


def render_unknown() -> str:
    """The page for a link that names no payment."""
    text = _TEXT["en"]
    french = _TEXT["fr"]
    return _page(
        "en",
        text["title"],
        f"<p>{escape(french['unknown'])}</p><p>{escape(text['unknown'])}</p>",
    )
