"""Online top-ups of the signed-in person: start, follow, cancel, list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from kiosk_server.cursors import CURSOR_PATTERN
from kiosk_server.deps import ClockDep, CurrentPerson, DbSession, ResourceId, Terminal
from kiosk_server.payments import provider_for
from kiosk_server.problems import problem_responses
from kiosk_server.routes import API
from kiosk_server.routes.once import Once
from kiosk_server.schemas_top_ups import (
    TopUpCancelRequest,
    TopUpOptions,
    TopUpOut,
    TopUpPage,
    TopUpRequest,
    TopUpState,
)
from kiosk_server.services import idempotency, top_ups

router = APIRouter(prefix=f"{API}/me/top-ups", tags=["top-ups"])

_PERSON = (
    "device-key-missing",
    "device-key-invalid",
    "device-role-forbidden",
    "session-missing",
    "session-invalid",
    "validation-failed",
)
_IDEMPOTENT = (
    "idempotency-key-missing",
    "idempotency-key-invalid",
    "idempotency-key-reused",
    "idempotency-in-progress",
)


def public_base_url(request: Request) -> str:
    """Where people's phones reach the service: the configured public base URL, else the URL
    this request came in on (the embedded demo's loopback address)."""
    configured: str | None = request.app.state.settings.public_base_url
    return (configured or str(request.base_url)).rstrip("/")


@router.get("/options", responses=problem_responses(*_PERSON))
async def top_up_options(person: CurrentPerson) -> TopUpOptions:
    """Preset amounts, the site's minimum and maximum, and whether online top-ups are on."""
    return top_ups.options(person.site)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TopUpOut,
    responses=problem_responses(
        *_PERSON,
        *_IDEMPOTENT,
        "payments-unavailable",
        "top-up-out-of-range",
        "payment-provider-unavailable",
    ),
)
async def start_top_up(
    body: TopUpRequest,
    request: Request,
    session: DbSession,
    device: Terminal,
    person: CurrentPerson,
    clock: ClockDep,
    once: Once,
) -> TopUpOut:
    """Start an online top-up: the answer's `checkout_url` is the page the person pays on (a
    QR on the terminal). Once per `Idempotency-Key`: a retry answers the same top-up."""
    now = clock.now()
    provider = provider_for(request.app)
    base_url = public_base_url(request)
    return await once.run(
        scope=idempotency.person_scope(device.id, person.account.id),
        body=body,
        model=TopUpOut,
        work=lambda: top_ups.start_top_up(
            session,
            provider=provider,
            person=person,
            device=device,
            amount_cents=body.amount_cents,
            base_url=base_url,
            now=now,
        ),
    )


@router.get("", responses=problem_responses(*_PERSON, "cursor-invalid"))
async def list_top_ups(
    request: Request,
    session: DbSession,
    person: CurrentPerson,
    clock: ClockDep,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=top_ups.MAX_PAGE)] = top_ups.DEFAULT_PAGE,
    state: TopUpState | None = None,
) -> TopUpPage:
    """The person's top-ups, newest first, pending ones included (`state=pending`: only those,
    e.g. to show at sign-in a top-up left pending)."""
    return await top_ups.list_top_ups(
        session,
        provider=provider_for(request.app),
        account=person.account,
        cursor=cursor,
        limit=limit,
        state=state,
        now=clock.now(),
    )


@router.get("/{top_up_id}", responses=problem_responses(*_PERSON, "top-up-unknown"))
async def get_top_up(
    top_up_id: ResourceId,
    request: Request,
    session: DbSession,
    person: CurrentPerson,
    clock: ClockDep,
) -> TopUpOut:
    """A top-up's state (the terminal polls it while the person pays). A pending one past its
    expiry is settled first with the provider: credited if it was paid, else expired."""
    return await top_ups.get_top_up(
        session,
        provider=provider_for(request.app),
        account=person.account,
        top_up_id=top_up_id,
        now=clock.now(),
    )


@router.post(
    "/{top_up_id}/cancel",
    response_model=TopUpOut,
    responses=problem_responses(
        *_PERSON, *_IDEMPOTENT, "top-up-unknown", "payment-provider-unavailable"
    ),
)
async def cancel_top_up(
    top_up_id: ResourceId,
    request: Request,
    session: DbSession,
    device: Terminal,
    person: CurrentPerson,
    clock: ClockDep,
    once: Once,
    body: TopUpCancelRequest | None = None,
) -> TopUpOut:
    """Cancel a pending top-up. The provider is asked first: if the person paid meanwhile, the
    top-up is credited and the answer says `succeeded`. A top-up that is no longer pending is
    answered as it stands."""
    now = clock.now()
    provider = provider_for(request.app)
    return await once.run(
        scope=idempotency.person_scope(device.id, person.account.id),
        body=body or TopUpCancelRequest(),
        model=TopUpOut,
        work=lambda: top_ups.cancel_top_up(
            session, provider=provider, account=person.account, top_up_id=top_up_id, now=now
        ),
    )
