"""A person's own settings, stored on their account (`Account.preferences`): the language the
kiosk switches to when they sign in, a low-balance threshold, and which events reach them
outside the kiosk, by email and/or SMS. Every event lands in their notifications whatever
they choose; security notices (a changed PIN, a blocked badge) always go out."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

Language = Literal["fr", "en"]
NotifyEvent = Literal[
    "order_ready", "visitor_arrived", "visit_request", "visit_decided", "top_up_credited",
    "low_balance",
]  # fmt: skip
NOTIFY_EVENTS: tuple[NotifyEvent, ...] = (
    "order_ready",
    "visitor_arrived",
    "visit_request",
    "visit_decided",
    "top_up_credited",
    "low_balance",
)
LOW_BALANCE_MAX_CENTS = 100_000
"""The highest low-balance threshold a person may set (in the site's currency's cents)."""


class Channels(BaseModel):
    """Where an event reaches the person besides the kiosk."""

    model_config = ConfigDict(extra="forbid")

    email: StrictBool = False
    sms: StrictBool = False


DEFAULT_CHANNELS: dict[str, Channels] = {
    "order_ready": Channels(email=True),
    "visitor_arrived": Channels(email=True),
    "visit_request": Channels(email=True),
    "visit_decided": Channels(email=True),
    "top_up_credited": Channels(),
    "low_balance": Channels(email=True),
}
"""What a person who chose nothing gets (by email, or by SMS when they have no email)."""


class Preferences(BaseModel):
    """As stored; what is missing is the default."""

    language: Language | None = None
    low_balance_cents: int | None = Field(None, ge=0, le=LOW_BALANCE_MAX_CENTS)
    notify: dict[NotifyEvent, Channels] = Field(default_factory=dict)

    def channels(self, kind: str) -> Channels | None:
        """The channels for an event of this kind; None for a kind not chosen by people
        (security notices and the like: the caller decides)."""
        if kind in self.notify:
            return self.notify[kind]
        return DEFAULT_CHANNELS.get(kind)


def preferences_of(stored: dict[str, Any] | None) -> Preferences:
    """The stored preferences, or the defaults for what is missing or no longer valid."""
    try:
        return Preferences.model_validate(stored or {})
    except ValueError:
        return Preferences()
