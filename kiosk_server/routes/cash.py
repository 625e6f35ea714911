"""Reception desks: cash top-ups, finding whom to credit, and the day's cash per clerk."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from kiosk_server.deps import ClockDep, CurrentPerson, DbSession, Terminal
from kiosk_server.problems import problem_responses
from kiosk_server.routes import API
from kiosk_server.routes.once import Once
from kiosk_server.schemas_money import AccountMatches, CashDay, CashTopUpRequest, TopUpReceipt
from kiosk_server.services import idempotency
from kiosk_server.services.money import cash

router = APIRouter(prefix=API, tags=["reception"])

_STAFF = (
    "device-key-missing",
    "device-key-invalid",
    "device-role-forbidden",
    "session-missing",
    "session-invalid",
    "role-forbidden",
)


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


@router.get(
    "/reception/accounts",
    responses=problem_responses(*_STAFF, "validation-failed"),
)
async def search_accounts(
    session: DbSession,
    staff: CurrentPerson,
    q: Annotated[str, Query(max_length=100, description="An identifier's start or name words.")],
) -> AccountMatches:
    """The site's people that reception may credit cash to (the signed-in person needs the
    `reception` role): those whose identifier begins with `q`, or whose name has words
    beginning with each word of `q` (case, accents and spaces ignored), exact identifiers
    first; none before 2 characters, 8 at most with `more`. A `blocked` account is listed, to
    say why it cannot be credited."""
    return await cash.find_accounts(session, staff=staff, query=q)


@router.get("/reception/cash", responses=problem_responses(*_STAFF))
async def cash_today(session: DbSession, staff: CurrentPerson, clock: ClockDep) -> CashDay:
    """The cash top-ups recorded at the site today (the site's day), per reception person, for
    counting the till. Reception only."""
    return await cash.cash_day(session, staff=staff, now=clock.now())
