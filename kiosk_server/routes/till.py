"""Tills: purchases paid with the badge the till just read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from kiosk_server.deps import ClockDep, DbSession, require_role
from kiosk_server.models import Device
from kiosk_server.problems import problem_responses
from kiosk_server.routes import API
from kiosk_server.routes.once import Once
from kiosk_server.schemas_money import PurchaseReceipt, TillPurchaseRequest
from kiosk_server.services import idempotency
from kiosk_server.services.money import purchases

router = APIRouter(prefix=f"{API}/till", tags=["till"])

Till = Annotated[Device, Depends(require_role("till"))]


@router.post(
    "/purchases",
    status_code=status.HTTP_201_CREATED,
    response_model=PurchaseReceipt,
    responses=problem_responses(
        "device-key-missing",
        "device-key-invalid",
        "device-role-forbidden",
        "validation-failed",
        "idempotency-key-missing",
        "idempotency-key-invalid",
        "idempotency-key-reused",
        "idempotency-in-progress",
        "total-mismatch",
        "badge-malformed",
        "badge-tampered",
        "badge-expired",
        "badge-other-site",
        "badge-already-used",
        "account-blocked",
        "insufficient-balance",
    ),
)
async def create_purchase(
    body: TillPurchaseRequest,
    session: DbSession,
    device: Till,
    clock: ClockDep,
    once: Once,
) -> PurchaseReceipt:
    """Record a purchase: checks the total, spends the badge token, debits the account and
    stores the ticket, once per `Idempotency-Key` (a replay has `Idempotency-Replayed: true`).

    A badge token pays once, and an account pays once per time step (`badge_step_seconds`, 30 s
    by default): a second purchase in the same step, even with another token of that step, is
    `badge-already-used`; the person shows the next code. On `idempotency-in-progress`, wait
    `retry_after` seconds and send the same request with the same key again (a new key could pay
    twice); on a lost connection, likewise: the answer, when it comes, is the first one's."""
    now = clock.now()
    # `run_storing`: the purchase's last statement stores the receipt too.
    return await once.run_storing(
        scope=idempotency.device_scope(device.id),
        body=body,
        model=PurchaseReceipt,
        work=lambda pending: purchases.till_purchase(
            session,
            device=device,
            badge_token=body.badge_token,
            lines=body.lines,
            total_cents=body.total_cents,
            now=now,
            pending=pending,
        ),
    )
