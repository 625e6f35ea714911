"""Reception desks: cash top-ups."""

from __future__ import annotations

from fastapi import APIRouter, status

from kiosk_server.deps import ClockDep, CurrentPerson, DbSession, Terminal
from kiosk_server.problems import problem_responses
from kiosk_server.routes.once import Once
from kiosk_server.schemas_money import CashTopUpRequest, TopUpReceipt
from kiosk_server.services import idempotency
from kiosk_server.services.money import cash

router = APIRouter(tags=["reception"])


@router.post(
    "/cash-top-ups",
    status_code=status.HTTP_201_CREATED,
    response_model=TopUpReceipt,
    responses=problem_responses(
        "device-key-missing",
        "device-key-invalid",
        "device-role-forbidden",
        "session-missing",
        "session-invalid",
        "validation-failed",
        "idempotency-key-missing",
        "idempotency-key-invalid",
        "idempotency-key-reused",
        "idempotency-in-progress",
        "role-forbidden",
        "top-up-out-of-range",
        "account-unknown",
        "account-blocked",
    ),
)
async def create_cash_top_up(
    body: CashTopUpRequest,
    session: DbSession,
    device: Terminal,
    staff: CurrentPerson,
    clock: ClockDep,
    once: Once,
) -> TopUpReceipt:
    """Credit cash handed to reception (the signed-in person needs the `reception` role) to a
    person of the same site; the ticket carries a "Cash top-up" line."""
    now = clock.now()
    return await once.run(
        scope=idempotency.person_scope(device.id, staff.account.id),
        body=body,
        model=TopUpReceipt,
        work=lambda: cash.cash_top_up(
            session,
            device=device,
            staff=staff,
            identifier=body.identifier,
            amount_cents=body.amount_cents,
            now=now,
        ),
    )
