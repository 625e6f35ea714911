"""The reception desk (a terminal with a person of the `reception` role signed in): today's
visitors, approvals, check-in and out on a visitor's behalf, walk-ins and the roll call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import Response

from kiosk_server.deps import ClockDep, CurrentPerson, DbSession, ResourceId, Terminal
from kiosk_server.fields import IsoDate, PlainText
from kiosk_server.problems import problem_responses
from kiosk_server.routes import API
from kiosk_server.schemas_visits import (
    CheckedOut,
    ReceptionDay,
    RejectRequest,
    RollCall,
    VisitDetail,
    VisitorBadge,
    WalkInCreated,
    WalkInRequest,
)
from kiosk_server.services import reception, visit_requests, visits
from kiosk_server.services.auth import SignedInPerson
from kiosk_server.services.visits import Actor


async def reception_person(person: CurrentPerson) -> SignedInPerson:
    """The signed-in person, who must have the `reception` role."""
    reception.require_reception(person)
    return person


Staff = Annotated[SignedInPerson, Depends(reception_person)]

router = APIRouter(prefix=f"{API}/reception", tags=["reception"])

STAFF_PROBLEMS = (
    "device-key-missing",
    "device-key-invalid",
    "device-role-forbidden",
    "session-missing",
    "session-invalid",
    "role-forbidden",
    "validation-failed",
)


@router.get("/visits", responses=problem_responses(*STAFF_PROBLEMS))
async def day_visits(
    session: DbSession,
    staff: Staff,
    clock: ClockDep,
    day: IsoDate | None = None,
    q: Annotated[PlainText, Query(max_length=100)] = "",
) -> ReceptionDay:
    """The day's visitors (today by default) in three lists: expected, on site, left;
    `q` searches visitor, company and host (case and accents ignored)."""
    return await reception.day_lists(session, site=staff.site, day=day, query=q, now=clock.now())


@router.post(
    "/visits/{visit_id}/approve",
    responses=problem_responses(*STAFF_PROBLEMS, "visit-unknown", "visit-transition-forbidden"),
)
async def approve(
    visit_id: ResourceId, session: DbSession, device: Terminal, staff: Staff, clock: ClockDep
) -> VisitDetail:
    """Approve a requested visit: its invitations are sent."""
    visit = await visits.site_visit(session, site=staff.site, visit_id=visit_id, lock=True)
    return await visit_requests.approve_visit(
        session, site=staff.site, visit=visit, actor=Actor(device, staff.account), now=clock.now()
    )


@router.post(
    "/visits/{visit_id}/reject",
    responses=problem_responses(*STAFF_PROBLEMS, "visit-unknown", "visit-transition-forbidden"),
)
async def reject(
    visit_id: ResourceId,
    body: RejectRequest,
    session: DbSession,
    device: Terminal,
    staff: Staff,
    clock: ClockDep,
) -> VisitDetail:
    """Reject a requested visit, with a reason the host sees."""
    visit = await visits.site_visit(session, site=staff.site, visit_id=visit_id, lock=True)
    return await visit_requests.reject_visit(
        session,
        site=staff.site,
        visit=visit,
        actor=Actor(device, staff.account),
        reason=body.reason,
        now=clock.now(),
    )


_CHECK_IN = (
    "visitor-unknown",
    "invitation-cancelled",
    "invitation-expired",
    "invitation-not-approved",
    "invitation-not-today",
    "invitation-used",
    "check-in-held",
)


@router.post(
    "/visitors/{visitor_id}/check-in", responses=problem_responses(*STAFF_PROBLEMS, *_CHECK_IN)
)
async def check_in(
    visitor_id: ResourceId, session: DbSession, device: Terminal, staff: Staff, clock: ClockDep
) -> VisitorBadge:
    """Check a visitor in on their behalf (any time of one of the visit's days); the host is
    notified. Answers the badge to print."""
    return await reception.check_in(
        session, staff=staff, device=device, visitor_id=visitor_id, now=clock.now()
    )


@router.post(
    "/visitors/{visitor_id}/check-out",
    responses=problem_responses(
        *STAFF_PROBLEMS, "visitor-unknown", "visitor-not-checked-in", "invitation-used"
    ),
)
async def check_out(
    visitor_id: ResourceId, session: DbSession, device: Terminal, staff: Staff, clock: ClockDep
) -> CheckedOut:
    """Check a visitor out on their behalf (also after closing time, to close the record)."""
    return await reception.check_out(
        session, staff=staff, device=device, visitor_id=visitor_id, now=clock.now()
    )


@router.get(
    "/visitors/{visitor_id}/badge",
    responses=problem_responses(*STAFF_PROBLEMS, "visitor-unknown", "visitor-not-checked-in"),
)
async def badge(
    visitor_id: ResourceId, session: DbSession, staff: Staff, clock: ClockDep
) -> VisitorBadge:
    """The badge of a visitor on site, to print again."""
    return await reception.reprint_badge(
        session, staff=staff, visitor_id=visitor_id, now=clock.now()
    )


@router.get(
    "/visitors/{visitor_id}/photo",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "The photo, JPEG"},
        **problem_responses(*STAFF_PROBLEMS, "visitor-unknown", "photo-none"),
    },
)
async def photo(visitor_id: ResourceId, session: DbSession, staff: Staff) -> Response:
    """The still the kiosk took of a visitor of the site at check-in (`photo-none` if none)."""
    jpeg = await reception.visitor_photo(session, staff=staff, visitor_id=visitor_id)
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post(
    "/walk-ins",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(*STAFF_PROBLEMS, "host-unknown", "host-ambiguous", "visit-invalid"),
)
async def walk_in(
    body: WalkInRequest, session: DbSession, device: Terminal, staff: Staff, clock: ClockDep
) -> WalkInCreated:
    """Register a visitor without an invitation: a visit requested for today, to approve
    before check-in. The host's full name must match exactly (staff are never listed)."""
    return await reception.walk_in(
        session, site=staff.site, device=device, staff=staff.account, body=body, now=clock.now()
    )


@router.get("/roll-call", responses=problem_responses(*STAFF_PROBLEMS))
async def roll_call(session: DbSession, staff: Staff, clock: ClockDep) -> RollCall:
    """Everyone on site now, with host and arrival time; `overdue` past their window."""
    return await reception.roll_call(session, site=staff.site, now=clock.now())


@router.get(
    "/roll-call.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"},
        **problem_responses(*STAFF_PROBLEMS),
    },
)
async def roll_call_csv(session: DbSession, staff: Staff, clock: ClockDep) -> Response:
    """The roll call as CSV, guarded against formula injection."""
    call = await reception.roll_call(session, site=staff.site, now=clock.now())
    return Response(
        reception.roll_call_csv(staff.site, call),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="roll-call.csv"'},
    )
