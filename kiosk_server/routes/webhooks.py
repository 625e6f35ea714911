"""Payment providers' webhooks: how a payment's outcome reaches the service."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request

from kiosk_server.body_limit import read_body
from kiosk_server.deps import ClockDep, DbSession
from kiosk_server.payments import provider_for
from kiosk_server.payments.provider import WebhookRejected
from kiosk_server.problems import ProblemError, problem_responses
from kiosk_server.routes import API
from kiosk_server.schemas_top_ups import WebhookAck
from kiosk_server.services import top_ups

log = logging.getLogger(__name__)

router = APIRouter(prefix=f"{API}/payments/webhooks", tags=["payments"])

WEBHOOK_MAX_BYTES = 8 * 1024
"""A payment event is a few hundred bytes."""


@router.post(
    "/sandbox",
    responses=problem_responses("webhook-signature-invalid", "body-too-large"),
    openapi_extra={
        "parameters": [
            {
                "name": "Kiosk-Signature",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": 't=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>',
            }
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["event_id", "ref", "state"],
                        "properties": {
                            "event_id": {"type": "string"},
                            "ref": {"type": "string"},
                            "state": {
                                "type": "string",
                                "enum": ["pending", "succeeded", "failed", "cancelled", "expired"],
                            },
                        },
                    }
                }
            },
        },
    },
)
async def sandbox_webhook(request: Request, session: DbSession, clock: ClockDep) -> WebhookAck:
    """The sandbox provider reports a payment's state. Refused unless signed with the sandbox's
    secret less than five minutes ago; a payment the service does not know changes nothing."""
    provider = provider_for(request.app)
    now = clock.now()
    try:
        # The headers first: an unsigned request is refused before its body is read.
        provider.check_webhook_headers(request.headers)
        # The raw bytes, exactly as signed: parsing first would lose them.
        raw_body = await read_body(request, WEBHOOK_MAX_BYTES)
        event = provider.verify_webhook(request.headers, raw_body, now)
    except WebhookRejected as rejected:
        # The reason only: never the body or the signature.
        log.warning("%s webhook refused: %s", provider.name, rejected.reason)
        raise ProblemError(
            "webhook-signature-invalid", "The webhook's signature is missing, wrong or too old."
        ) from None
    outcome = await top_ups.on_webhook(session, provider=provider, event=event, now=now)
    return WebhookAck(outcome=outcome)
