"""The sandbox payment provider: a hosted checkout that takes no real money.

It plays the external provider's part inside `kiosk-server`: its payments live in their own
table (`sandbox_payments`), its checkout page is served under `/sandbox/checkout/{ref}`
(`routes.sandbox`), and it tells the service the outcome the way a real provider does, with a
webhook signed with HMAC-SHA256 and sent over HTTP to the service's public base URL:

    POST /v1/payments/webhooks/sandbox
    Kiosk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{raw body}")>
    {"event_id": "...", "ref": "...", "state": "succeeded"}

The service verifies the signature and the timestamp's age (`verify_webhook`). The secret is
`ServerSettings.sandbox_webhook_secret`, or one generated on first use and kept in the data
directory (`webhook_secret_from`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kiosk_server.clock import Clock
from kiosk_server.db import as_utc
from kiosk_server.models import SandboxPayment
from kiosk_server.payments.provider import (
    WEBHOOK_TOLERANCE,
    PaymentState,
    ProviderPayment,
    WebhookEvent,
    WebhookRejected,
)
from kiosk_server.settings import ServerSettings

log = logging.getLogger(__name__)

NAME = "sandbox"
SIGNATURE_HEADER = "Kiosk-Signature"
WEBHOOK_PATH = "/v1/payments/webhooks/sandbox"
SECRET_FILE = "sandbox-webhook.key"  # noqa: S105 - a file name, not a secret
DELIVERY_ATTEMPTS = 3


class SandboxEventBody(BaseModel):
    """The JSON body of a sandbox webhook."""

    event_id: str
    ref: str
    state: PaymentState


@dataclass(frozen=True)
class SignedWebhook:
    """A webhook ready to send: where, the exact bytes, and the signature header."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


WebhookSender = Callable[[SignedWebhook], Awaitable[None]]
"""Delivers a webhook. The app keeps one on `app.state.sandbox_webhook_sender` (HTTP by
default); tests put theirs there to deliver through the ASGI app, twice, late or not at all."""


def sign(secret: bytes, timestamp: int, raw_body: bytes) -> str:
    """The hex HMAC-SHA256 of `f"{timestamp}.{raw_body}"`."""
    message = str(timestamp).encode() + b"." + raw_body
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def signature_header(secret: bytes, timestamp: int, raw_body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, raw_body)}"


def make_webhook(
    secret: bytes, *, base_url: str, ref: str, state: PaymentState, now: dt.datetime
) -> SignedWebhook:
    """A signed webhook telling the service that payment `ref` is now `state`."""
    body = json.dumps(
        {"event_id": f"evt_{secrets.token_hex(12)}", "ref": ref, "state": state},
        separators=(",", ":"),
    ).encode()
    timestamp = int(now.timestamp())
    return SignedWebhook(
        url=base_url.rstrip("/") + WEBHOOK_PATH,
        body=body,
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(secret, timestamp, body),
        },
    )


@dataclass(frozen=True)
class Signature:
    """A webhook's signature header, read: when it was signed, and its signatures."""

    timestamp: int
    signatures: tuple[str, ...]


def read_signature(headers: Mapping[str, str]) -> Signature:
    """The signature header, before the body is read: a webhook without one is refused without
    reading a byte more."""
    header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), None)
    if not header:
        raise WebhookRejected("signature missing")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookRejected("signature header malformed")
    return Signature(timestamp, tuple(signatures))


def verify(
    secret: bytes, headers: Mapping[str, str], raw_body: bytes, now: dt.datetime
) -> WebhookEvent:
    """The event of a webhook signed with `secret` less than five minutes from `now`."""
    signature = read_signature(headers)
    expected = sign(secret, signature.timestamp, raw_body)
    # Every v1 is tried, so that a provider may sign with an old and a new secret while rotating.
    if not any(hmac.compare_digest(expected, candidate) for candidate in signature.signatures):
        raise WebhookRejected("signature does not match")
    age = abs(now.timestamp() - signature.timestamp)
    if age > WEBHOOK_TOLERANCE.total_seconds():
        raise WebhookRejected(f"timestamp {int(age)} s away from now")
    try:
        event = SandboxEventBody.model_validate_json(raw_body)
    except ValidationError:
        raise WebhookRejected("body malformed") from None
    return WebhookEvent(event_id=event.event_id, provider_ref=event.ref, state=event.state)


def webhook_secret_from(settings: ServerSettings) -> bytes:
    """The sandbox's webhook secret: the configured one, else the data directory's (created on
    first use, owner-readable only, by whichever worker gets there first)."""
    if settings.sandbox_webhook_secret is not None:
        return settings.sandbox_webhook_secret.get_secret_value().encode()
    from kiosk_server.paths import data_dir

    return _secret_file(data_dir() / SECRET_FILE)


def _secret_file(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            # Another worker created it a moment ago and may still be writing it.
            text = path.read_text(encoding="ascii").strip()
            if text:
                return text.encode()
            import time

            time.sleep(0.01)
        raise RuntimeError(f"{path} is empty") from None
    secret = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    return secret.encode()


async def send_over_http(webhook: SignedWebhook) -> None:
    """The default `WebhookSender`: POST to the service, a few tries. A webhook that is never
    delivered is not lost money: the service asks the provider before it gives up a payment."""
    import httpx  # a twentieth of the service's start-up: only once someone tops up

    async with httpx.AsyncClient(timeout=5.0) as client:
        for attempt in range(1, DELIVERY_ATTEMPTS + 1):
            try:
                response = await client.post(
                    webhook.url, content=webhook.body, headers=webhook.headers
                )
            except httpx.TransportError as exc:
                log.warning("sandbox webhook not delivered (%s)", type(exc).__name__)
            else:
                if response.is_success:
                    return
                log.warning("sandbox webhook refused with HTTP %s", response.status_code)
                if response.status_code < 500:
                    return
            if attempt < DELIVERY_ATTEMPTS:
                await asyncio.sleep(0.5 * attempt)


class SandboxProvider:
    """The sandbox as a `PaymentProvider`. Each call runs in a short transaction of its own,
    as a call to an external provider would: callers must not hold a write transaction on the
    same SQLite file meanwhile."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        secret: Callable[[], bytes],
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._secret = secret

    @property
    def name(self) -> str:
        return NAME

    def webhook_secret(self) -> bytes:
        return self._secret()

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
        ref = f"sbx_{secrets.token_urlsafe(18)}"
        async with self._session_factory() as session, session.begin():
            session.add(
                SandboxPayment(
                    ref=ref,
                    payment_id=payment_id[:64],
                    amount_cents=amount_cents,
                    currency=currency,
                    description=description[:200],
                    locale=locale[:16],
                    state="pending",
                    created_at=self._clock.now(),
                    expires_at=expires_at,
                    completed_at=None,
                )
            )
        return ProviderPayment(
            provider_ref=ref, checkout_url=f"{base_url.rstrip('/')}/sandbox/checkout/{ref}"
        )

    async def fetch_state(self, provider_ref: str) -> PaymentState:
        async with self._session_factory() as session, session.begin():
            return await settle_expiry(session, provider_ref, self._clock.now())

    async def cancel(self, provider_ref: str) -> PaymentState:
        now = self._clock.now()
        async with self._session_factory() as session, session.begin():
            await session.execute(
                update(SandboxPayment)
                .where(SandboxPayment.ref == provider_ref, SandboxPayment.state == "pending")
                .values(state="cancelled", completed_at=now)
            )
            return await settle_expiry(session, provider_ref, now)

    def check_webhook_headers(self, headers: Mapping[str, str]) -> None:
        read_signature(headers)

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, now: dt.datetime
    ) -> WebhookEvent:
        return verify(self._secret(), headers, raw_body, now)


async def settle_expiry(session: AsyncSession, ref: str, now: dt.datetime) -> PaymentState:
    """The payment's state, after marking it `expired` if it was still pending past its expiry
    (in the caller's transaction). An unknown ref reads as `failed`: nothing was paid."""
    payment = await session.scalar(select(SandboxPayment).where(SandboxPayment.ref == ref))
    if payment is None:
        return "failed"
    if payment.state == "pending" and as_utc(payment.expires_at) <= now:
        await session.execute(
            update(SandboxPayment)
            .where(SandboxPayment.ref == ref, SandboxPayment.state == "pending")
            .values(state="expired", completed_at=now)
        )
        await session.refresh(payment)
    state: PaymentState = payment.state  # type: ignore[assignment]
    return state
