"""A signed-in person's visit requests: declare, consult, edit, submit, cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import Response

from kiosk_server.deps import ClockDep, CurrentPerson, DbSession, ResourceId, Terminal
from kiosk_server.problems import ProblemError, problem_responses
from kiosk_server.routes import API
from kiosk_server.schemas_visits import VisitCreate, VisitDetail, VisitList, VisitPatch
from kiosk_server.services import visit_requests, visitor_photos, visits

router = APIRouter(prefix=f"{API}/me/visits", tags=["visits"])

_PERSON = (
    "device-key-missing",
    "device-key-invalid",
    "device-role-forbidden",
    "session-missing",
    "session-invalid",
    "validation-failed",
)


@router.post(
    "", status_code=status.HTTP_201_CREATED, responses=problem_responses(*_PERSON, "visit-invalid")
)
async def create_visit(
    body: VisitCreate, session: DbSession, device: Terminal, person: CurrentPerson, clock: ClockDep
) -> VisitDetail:
    """Declare a visit: saved as a draft, or submitted at once with `submit: true` (approved
    on submission where the site needs no approval). Wrong fields are listed in `errors`."""
    return await visit_requests.create_visit(
        session, site=person.site, host=person.account, device=device, body=body, now=clock.now()
    )


@router.get("", responses=problem_responses(*_PERSON))
async def list_visits(session: DbSession, person: CurrentPerson, clock: ClockDep) -> VisitList:
    """The person's visits, upcoming first, with their state."""
    return await visits.list_visits(session, host=person.account, site=person.site, now=clock.now())


@router.get("/{visit_id}", responses=problem_responses(*_PERSON, "visit-unknown"))
async def get_visit(session: DbSession, person: CurrentPerson, visit_id: ResourceId) -> VisitDetail:
    """One visit with its visitors and its history."""
    visit = await visits.host_visit(session, host=person.account, visit_id=visit_id)
    return await visits.detail(session, visit=visit)


_JPEG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}}, "description": "The photo, JPEG"}
}


@router.get(
    "/{visit_id}/visitors/{visitor_id}/photo",
    response_class=Response,
    responses={**_JPEG, **problem_responses(*_PERSON, "visit-unknown", "photo-none")},
)
async def visitor_photo(
    session: DbSession, person: CurrentPerson, visit_id: ResourceId, visitor_id: ResourceId
) -> Response:
    """The still the kiosk took of one of the person's visitors at check-in (`photo-none` when
    none was taken, or the retention purge deleted it)."""
    visit = await visits.host_visit(session, host=person.account, visit_id=visit_id)
    if visitor_id not in {v.id for v in (await visits.visitors_of(session, [visit.id]))[visit.id]}:
        raise ProblemError("photo-none", "No photo of this visitor.")
    jpeg = await visitor_photos.photo_of(session, visitor_id=visitor_id)
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.patch(
    "/{visit_id}",
    responses=problem_responses(*_PERSON, "visit-unknown", "visit-not-editable", "visit-invalid"),
)
async def edit_visit(
    visit_id: ResourceId,
    body: VisitPatch,
    session: DbSession,
    device: Terminal,
    person: CurrentPerson,
    clock: ClockDep,
) -> VisitDetail:
    """Change a visit until it is approved; `visitors`, when given, replaces the list."""
    return await visit_requests.edit_visit(
        session,
        site=person.site,
        host=person.account,
        device=device,
        visit_id=visit_id,
        body=body,
        now=clock.now(),
    )


@router.post(
    "/{visit_id}/submit",
    responses=problem_responses(
        *_PERSON, "visit-unknown", "visit-transition-forbidden", "visit-invalid"
    ),
)
async def submit_visit(
    visit_id: ResourceId,
    session: DbSession,
    device: Terminal,
    person: CurrentPerson,
    clock: ClockDep,
) -> VisitDetail:
    """Validate a draft: requested, or approved at once (invitations sent) by site policy."""
    return await visit_requests.submit_visit(
        session,
        site=person.site,
        host=person.account,
        device=device,
        visit_id=visit_id,
        now=clock.now(),
    )


@router.post(
    "/{visit_id}/approve",
    responses=problem_responses(*_PERSON, "visit-unknown", "visit-transition-forbidden"),
)
async def approve_walk_in(
    visit_id: ResourceId,
    session: DbSession,
    device: Terminal,
    person: CurrentPerson,
    clock: ClockDep,
) -> VisitDetail:
    """The host approves a walk-in who asked for them at the kiosk (only walk-ins)."""
    return await visit_requests.host_approves_walk_in(
        session,
        site=person.site,
        host=person.account,
        device=device,
        visit_id=visit_id,
        now=clock.now(),
    )


@router.post(
    "/{visit_id}/decline",
    responses=problem_responses(*_PERSON, "visit-unknown", "visit-transition-forbidden"),
)
async def decline_walk_in(
    visit_id: ResourceId,
    session: DbSession,
    device: Terminal,
    person: CurrentPerson,
    clock: ClockDep,
) -> VisitDetail:
    """The host declines a walk-in who asked for them at the kiosk (only walk-ins): the visit
    is rejected and the visitor is told to ask the reception desk."""
    return await visit_requests.host_declines_walk_in(
        session,
        site=person.site,
        host=person.account,
        device=device,
        visit_id=visit_id,
        now=clock.now(),
    )


@router.delete(
    "/{visit_id}",
    responses=problem_responses(*_PERSON, "visit-unknown", "visit-transition-forbidden"),
)
async def cancel_visit(
    visit_id: ResourceId,
    session: DbSession,
    device: Terminal,
    person: CurrentPerson,
    clock: ClockDep,
) -> VisitDetail:
    """Cancel a visit until a visitor has checked in: invitations stop working at once and
    each invited visitor is told by message."""
    return await visit_requests.cancel_visit(
        session,
        site=person.site,
        host=person.account,
        device=device,
        visit_id=visit_id,
        now=clock.now(),
    )
