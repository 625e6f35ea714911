"""Request and answer bodies of the online top-up routes and the payment webhooks."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from kiosk_server.fields import StrictInt
from kiosk_server.schemas import Money
from kiosk_server.schemas_money import MAX_AMOUNT_CENTS

TopUpState = Literal["pending", "succeeded", "failed", "expired", "cancelled"]
WebhookOutcome = Literal["applied", "unchanged", "unknown"]


class TopUpRequest(BaseModel):
    """An online top-up the signed-in person starts (within the site's minimum and maximum)."""

    amount_cents: StrictInt = Field(ge=1, le=MAX_AMOUNT_CENTS)


class TopUpCancelRequest(BaseModel):
    """Cancelling a pending top-up takes no field (the body may be empty JSON)."""


class TopUpOut(BaseModel):
    """An online top-up and where it stands. While `pending`, the person pays at
    `checkout_url` until `expires_at`; once `succeeded`, `balance_after` is the balance the
    credit left."""

    id: int
    state: TopUpState
    amount: Money
    checkout_url: str
    created_at: dt.datetime
    expires_at: dt.datetime
    completed_at: dt.datetime | None
    credited_after_state: Literal["failed", "expired", "cancelled"] | None
    """Set when the money arrived after the service had marked the top-up so: it was credited
    all the same."""
    ticket_id: int | None
    balance_after: Money | None


class TopUpPage(BaseModel):
    """Top-ups newest first, pending ones included; pass `next_cursor` back as `cursor` for the
    next page (null: the end)."""

    items: list[TopUpOut]
    next_cursor: str | None


class TopUpOptions(BaseModel):
    """What the top-up screen offers on this site."""

    available: bool
    """False when online payments are off on this site (`payments-unavailable` if tried)."""
    sandbox: bool
    """True when payments go through the sandbox (a test checkout: no real money)."""
    currency: str
    presets: list[Money]
    min: Money
    max: Money


class WebhookAck(BaseModel):
    """The service took the webhook: it changed a top-up, or nothing needed changing (a
    duplicate, an event older than the state, or a payment it does not know)."""

    outcome: WebhookOutcome
