"""Signing in by scanning the connect QR of a welcome letter."""

from __future__ import annotations

from fastapi import APIRouter

from kiosk_server.deps import ClockDep, DbSession, Terminal
from kiosk_server.problems import problem_responses
from kiosk_server.routes import API
from kiosk_server.schemas_badges import Connected, ConnectRequest
from kiosk_server.services import connect as connect_service

router = APIRouter(prefix=f"{API}/auth", tags=["auth"])


@router.post(
    "/connect",
    responses=problem_responses(
        "device-key-missing",
        "device-key-invalid",
        "device-role-forbidden",
        "validation-failed",
        "connect-malformed",
        "connect-invalid",
        "connect-revoked",
        "connect-other-site",
        "account-blocked",
        "terminal-throttled",
    ),
)
async def connect(
    body: ConnectRequest, session: DbSession, device: Terminal, clock: ClockDep
) -> Connected:
    """Who a scanned connect QR names: the terminal goes on as after typing the identifier
    (PIN when `active`, activation when `pending_activation`, unlock when `locked`)."""
    return await connect_service.connect(
        session, device=device, connect_token=body.connect_token, now=clock.now()
    )
