"""The visitor desk: a terminal with nobody signed in, where a visitor checks in and out with
their invitation, or asks for their host."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel

from kiosk_server.deps import ClockDep, DbSession, Terminal
from kiosk_server.fields import PlainText
from kiosk_server.models import Device, Site
from kiosk_server.problems import ProblemError, problem_responses
from kiosk_server.routes import API
from kiosk_server.routes.once import MaybeOnce
from kiosk_server.schemas_visits import (
    CheckedOut,
    DeskCheckIn,
    DeskCredentials,
    DeskVisit,
    HostMatches,
    VisitorBadge,
    WalkInCreated,
    WalkInRequest,
)
from kiosk_server.services import idempotency, reception, visitor_desk
from kiosk_server.services.devices import site_for_code

router = APIRouter(prefix=f"{API}/visitor-desk", tags=["visitor desk"])

AnswerT = TypeVar("AnswerT", bound=BaseModel)

_DEVICE = ("device-key-missing", "device-key-invalid", "device-role-forbidden", "validation-failed")
_INVITATION = (
    "terminal-throttled",
    "invitation-unknown",
    "invitation-other-site",
    "invitation-not-today",
    "invitation-cancelled",
    "invitation-used",
    "invitation-expired",
    "invitation-not-approved",
)
_KEYED = ("idempotency-key-invalid", "idempotency-key-reused", "idempotency-in-progress")
"""What an optional `Idempotency-Key` may be answered."""


@router.post(
    "/lookup", responses=problem_responses(*_DEVICE, *_INVITATION, "visitor-not-checked-in")
)
async def lookup(
    body: DeskCredentials, session: DbSession, device: Terminal, clock: ClockDep
) -> DeskVisit:
    """The visit behind a scanned invitation (`token`) or a typed `code` and `last_name`:
    what to show the visitor, the site's rules in `language`, and whether this is a check-in
    or a check-out. Refuses as the check-in or check-out would."""
    return await visitor_desk.lookup(session, device=device, body=body, now=clock.now())


@router.post(
    "/check-in",
    response_model=VisitorBadge,
    responses=problem_responses(
        *_DEVICE,
        *_INVITATION,
        "rules-not-accepted",
        "photo-required",
        "photo-invalid",
        "check-in-held",
        *_KEYED,
    ),
)
async def check_in(
    body: DeskCheckIn,
    request: Request,
    session: DbSession,
    device: Terminal,
    clock: ClockDep,
    once: MaybeOnce,
) -> VisitorBadge:
    """Check the visitor in (rules accepted, with the time); the host is notified. Answers the
    visitor badge (its QR, `checkout_token`, checks them out).

    With an `Idempotency-Key` (one per check-in, reused on every retry of it), a retry whose
    first attempt was applied but whose answer was lost gets the same badge again
    (`Idempotency-Replayed: true`); without one, it is refused as `invitation-used`."""
    now = clock.now()
    return await once.run(
        scope=idempotency.device_scope(device.id),
        body=body,
        model=VisitorBadge,
        work=lambda: visitor_desk.desk_check_in(session, device=device, body=body, now=now),
    )


@router.post(
    "/check-out",
    response_model=CheckedOut,
    responses=problem_responses(
        *_DEVICE,
        *_INVITATION,
        "visitor-not-checked-in",
        *_KEYED,
    ),
)
async def check_out(
    body: DeskCredentials,
    request: Request,
    session: DbSession,
    device: Terminal,
    clock: ClockDep,
    once: MaybeOnce,
) -> CheckedOut:
    """Check the visitor out with their badge's QR or their code and last name. With an
    `Idempotency-Key`, as for the check-in: a retry after a lost answer gets the same answer."""
    now = clock.now()
    return await once.run(
        scope=idempotency.device_scope(device.id),
        body=body,
        model=CheckedOut,
        work=lambda: visitor_desk.desk_check_out(session, device=device, body=body, now=now),
    )


def _site(device: Device, solution_code: str | None) -> Site:
    """The site a visitor-desk request is for: the named one, or the terminal's only one."""
    if solution_code:
        return site_for_code(device, solution_code)
    if len(device.sites) == 1:
        return device.sites[0]
    raise ProblemError("solution-unknown", "Say which site (solution_code).")


@router.get(
    "/hosts",
    responses=problem_responses(
        *_DEVICE, "solution-unknown", "terminal-throttled", "host-search-off"
    ),
)
async def hosts(
    session: DbSession,
    device: Terminal,
    clock: ClockDep,
    q: Annotated[PlainText, Query(max_length=100)],
    solution_code: Annotated[str | None, Query(max_length=32)] = None,
) -> HostMatches:
    """For a visitor without an invitation to pick their host: the names of the site's people
    in which every typed word begins a word (case and accents ignored), five at most, `more`
    when others match; nothing before three letters. Names only; `host-search-off` where the
    site keeps its people unlisted (the full name is then typed for `walk-ins`)."""
    site = _site(device, solution_code)
    return await reception.search_hosts(session, site=site, device=device, query=q, now=clock.now())


@router.post(
    "/walk-ins",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        *_DEVICE,
        "solution-unknown",
        "terminal-throttled",
        "host-unknown",
        "host-ambiguous",
        "visit-invalid",
    ),
)
async def walk_in(
    body: WalkInRequest, session: DbSession, device: Terminal, clock: ClockDep
) -> WalkInCreated:
    """A visitor without an invitation asks for their host by full name (exact match; names
    that match nobody count against the terminal). The host is told and approves; the kiosk
    may keep `invitation_token` to check the visitor in once approved."""
    site = _site(device, body.solution_code)
    return await reception.walk_in(
        session, site=site, device=device, staff=None, body=body, now=clock.now()
    )
