"""The SMS channel: a gateway interface, and the adapter shipped with the product.

A real gateway (an SMS provider's HTTP API) is a class with the same `send` method, passed to
`kiosk_server.app.create_app(sms_gateway=...)`; nothing else in the service changes.
"""

from __future__ import annotations

from typing import Protocol


class SmsGateway(Protocol):
    """Sends one text message. Implemented by real provider adapters and by test fakes."""

    async def send(self, to: str, body: str) -> bool:
        """Hand `body` to the gateway for `to` (E.164). True when the gateway accepted it; False
        (or an exception) leaves the message in the outbox for a later attempt."""
        ...


class OutboxSmsGateway:
    """The shipped adapter: it delivers nothing, so text messages stay in the outbox, where
    `kiosk-server outbox` prints them (the embedded demo's mailbox)."""

    async def send(self, to: str, body: str) -> bool:
        return False
