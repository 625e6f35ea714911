"""The payment-provider interface: what the service needs from whoever takes the money.

A provider is a hosted checkout (the sandbox shipped here, or a real one such as Stripe
Checkout): the service creates a payment, sends the person to the provider's `checkout_url`,
and learns the outcome from a signed webhook. It can also ask for a payment's state (to
reconcile before giving up on a payment) and cancel one.

A real provider implements the same protocol:

- `create_payment`: create the provider's checkout session (Stripe: `POST /v1/checkout/sessions`
  with the amount, currency, `expires_at`, the service's `payment_id` as metadata and
  `client_reference_id`), answering its id and URL;
- `fetch_state`: read the session and map its status (Stripe: `complete` + `paid` →
  `succeeded`, `expired` → `expired`, `open` → `pending`);
- `cancel`: expire the session if it is still open, then answer its state as `fetch_state`
  would (a payment completed meanwhile answers `succeeded`: the money is never lost);
- `check_webhook_headers`: refuse a webhook without a well-formed signature header, before its
  body is read;
- `verify_webhook`: check the signature header over the raw body with the shared secret and
  the timestamp's age (Stripe's `Stripe-Signature: t=...,v1=...` has the same shape as the
  sandbox's `Kiosk-Signature`), then read the event.

The service never holds a database transaction open across a provider call (a network call on
a real provider): see `services.top_ups`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

PaymentState = Literal["pending", "succeeded", "failed", "cancelled", "expired"]
PAYMENT_STATES: tuple[PaymentState, ...] = (
    "pending",
    "succeeded",
    "failed",
    "cancelled",
    "expired",
)

WEBHOOK_TOLERANCE = dt.timedelta(minutes=5)
"""A webhook whose signed timestamp is further than this from now is refused (a replay)."""


@dataclass(frozen=True)
class ProviderPayment:
    """A payment the provider created: its id there, and the page the person pays on."""

    provider_ref: str
    checkout_url: str


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook: the provider's event id, its payment, and the state it reports."""

    event_id: str
    provider_ref: str
    state: PaymentState


class WebhookRejected(Exception):
    """A webhook that is not signed, wrongly signed, too old or malformed. `reason` is safe to
    log (it never quotes the body or the signature)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered an error: nothing is known to have changed
    there, and the service answers `payment-provider-unavailable` (a retry may succeed)."""


class PaymentProvider(Protocol):
    """What the service needs from a payment provider (see the module docstring)."""

    @property
    def name(self) -> str:
        """Short name, stored with each top-up and used in the webhook's path."""
        ...

    async def create_payment(
        self,
        *,
        payment_id: str,
        amount_cents: int,
        currency: str,
        description: str,
        expires_at: dt.datetime,
        base_url: str,
        locale: str = "en",
    ) -> ProviderPayment:
        """Create a payment that can be paid until `expires_at`. `base_url` is the service's
        public base URL (the sandbox serves its checkout page there; a real provider ignores
        it); `locale` is the checkout page's language."""
        ...

    async def fetch_state(self, provider_ref: str) -> PaymentState:
        """The payment's state as the provider knows it now."""
        ...

    async def cancel(self, provider_ref: str) -> PaymentState:
        """Stop the payment from being paid if it still can be, and answer its state then (which
        is `succeeded` when the person paid first)."""
        ...

    def check_webhook_headers(self, headers: Mapping[str, str]) -> None:
        """Raise `WebhookRejected` when the headers alone show the webhook is not genuine (no
        signature, or a malformed one): checked before the body is read."""
        ...

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, now: dt.datetime
    ) -> WebhookEvent:
        """The event of a genuine webhook; raises `WebhookRejected` otherwise."""
        ...
