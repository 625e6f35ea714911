"""Payments: the provider interface (`provider`), the sandbox provider (`sandbox`) and its
checkout page (`checkout_page`).

The app's provider is built on first use and kept on `app.state.payment_provider` (tests may put
another one there); the sandbox's webhook sender on `app.state.sandbox_webhook_sender`.
"""

from __future__ import annotations

from typing import Any

from kiosk_server.payments.provider import PaymentProvider
from kiosk_server.payments.sandbox import SandboxProvider, WebhookSender, send_over_http


def provider_for(app: Any) -> PaymentProvider:
    """The app's payment provider (the sandbox), built once its database is up."""
    state = app.state
    provider: PaymentProvider | None = getattr(state, "payment_provider", None)
    if provider is None:
        from kiosk_server.payments.sandbox import webhook_secret_from

        settings = state.settings
        cached: list[bytes] = []

        def secret() -> bytes:
            # Resolved on first use: a service that never takes a sandbox payment never
            # touches the data directory.
            if not cached:
                cached.append(webhook_secret_from(settings))
            return cached[0]

        provider = SandboxProvider(state.session_factory, clock=state.clock, secret=secret)
        state.payment_provider = provider
    return provider


def sender_for(app: Any) -> WebhookSender:
    """How the app's sandbox delivers its webhooks (over HTTP unless a test says otherwise)."""
    sender: WebhookSender = getattr(app.state, "sandbox_webhook_sender", None) or send_over_http
    return sender


__all__ = ["PaymentProvider", "provider_for", "sender_for"]
