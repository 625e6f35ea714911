"""A notification worded in the kiosk's language, from its `kind` and `data` (the service writes
`title` and `body` in the site's language, for the email): an English kiosk on a French site
says "Your order no. 12 is ready". A kind this kiosk does not know, or one without the facts it
needs (written before the service kept them), keeps the service's words."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from kiosk.i18n import N_, _, get_language
from kiosk.money import format_money
from kiosk.text import plain

if TYPE_CHECKING:
    from kiosk.api.models import Notification

NAME_MAX = 60

TITLES: dict[str, str] = {
    "visit_request": N_("A visitor is asking for you"),
    "visitor_arrived": N_("Your visitor has arrived"),
    "top_up_credited": N_("Top-up credited"),
    "order_ready": N_("Your order no. %(pickup_number)s is ready"),
    "pin_changed": N_("Your PIN was changed"),
    "badge_blocked": N_("Your badge was blocked"),
    "low_balance": N_("Low balance"),
    "visit_decided:approved": N_("Visit request approved"),
    "visit_decided:rejected": N_("Visit request rejected"),
}
BODIES: dict[str, str] = {
    "visit_request": N_("%(visitor)s is asking for you at the reception desk."),
    "visitor_arrived": N_("%(visitor)s has checked in at the reception desk."),
    "top_up_credited": N_("%(amount)s was added to your balance."),
    "order_ready": N_("You can collect it now."),
    "pin_changed": N_("If it was not you, please contact the reception desk."),
    "badge_blocked": N_(
        "The old QR codes of your badge and welcome letter are no longer accepted. "
        "If it was not you, please contact the reception desk."
    ),
    "low_balance": N_("Your balance is %(amount)s. Remember to top up."),
    "visit_decided:approved": N_("Visit on %(day)s: the invitations are sent."),
    "visit_decided:rejected": N_("Visit on %(day)s: %(reason)s"),
}


def _facts(item: Notification) -> dict[str, str]:
    """The values the sentences take, as plain text: those the notification holds."""
    data, facts = item.data, {}
    if isinstance(data.get("visitor_name"), str):
        who = plain(str(data["visitor_name"]), max_length=NAME_MAX)
        company = plain(str(data.get("company") or ""), max_length=NAME_MAX)
        facts["visitor"] = f"{who} ({company})" if company else who
    amount, currency = data.get("amount_cents"), data.get("currency")
    if isinstance(amount, int) and isinstance(currency, str):
        facts["amount"] = format_money(amount, currency, get_language())
    if isinstance(data.get("pickup_number"), int):
        facts["pickup_number"] = str(data["pickup_number"])
    if isinstance(data.get("first_day"), str):
        try:
            day = dt.date.fromisoformat(str(data["first_day"]))
        except ValueError:
            pass
        else:
            facts["day"] = f"{day:%d/%m/%Y}" if get_language() == "fr" else f"{day:%Y-%m-%d}"
    if isinstance(data.get("reason"), str):
        facts["reason"] = plain(str(data["reason"]), max_length=200) or "—"
    return facts


def _key(item: Notification) -> str:
    """The sentences' key: the kind, and for a decision, which one."""
    decision = item.data.get("decision")
    return f"{item.kind}:{decision}" if isinstance(decision, str) else item.kind


def _worded(item: Notification, sentences: dict[str, str], fallback: str) -> str:
    sentence = sentences.get(_key(item))
    if sentence is None:
        return plain(fallback)
    try:
        return _(sentence) % _facts(item)
    except KeyError:  # a fact it needs is not there: the service's words
        return plain(fallback)


def notice_title(item: Notification) -> str:
    """The notification's title in the kiosk's language (plain text)."""
    return _worded(item, TITLES, item.title)


def notice_body(item: Notification) -> str:
    """The notification's text in the kiosk's language (plain text)."""
    return _worded(item, BODIES, item.body)
