"""Evacuations at the reception desk (a person of the `reception` role signed in): start one
with everyone on site, mark people safe at the muster point, see who is missing, close it with a
report."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import Response

from kiosk_server.deps import ClockDep, DbSession, ResourceId
from kiosk_server.problems import problem_responses
from kiosk_server.routes import API
from kiosk_server.routes.reception import Staff
from kiosk_server.schemas_evacuations import Evacuation
from kiosk_server.services import evacuations

router = APIRouter(prefix=f"{API}/reception/evacuations", tags=["reception"])

_STAFF = (
    "device-key-missing",
    "device-key-invalid",
    "device-role-forbidden",
    "session-missing",
    "session-invalid",
    "role-forbidden",
)
_ONE = (*_STAFF, "validation-failed", "evacuation-unknown")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(*_STAFF, "evacuation-in-progress"),
)
async def start(session: DbSession, staff: Staff, clock: ClockDep) -> Evacuation:
    """Start an evacuation with everyone on the roll call now, all missing until marked safe
    (audit log: `evacuation.started`). One at a time per site: `evacuation-in-progress`."""
    return await evacuations.start(session, staff=staff, now=clock.now())


@router.get("/current", responses=problem_responses(*_STAFF, "evacuation-none"))
async def current(session: DbSession, staff: Staff) -> Evacuation:
    """The evacuation in progress, its people missing first (`evacuation-none` when none)."""
    return await evacuations.current(session, staff=staff)


@router.post(
    "/{evacuation_id}/people/{visitor_id}/safe",
    responses=problem_responses(*_ONE, "evacuation-closed", "visitor-unknown"),
)
async def mark_safe(
    evacuation_id: ResourceId,
    visitor_id: ResourceId,
    session: DbSession,
    staff: Staff,
    clock: ClockDep,
) -> Evacuation:
    """Mark a person safe at the muster point (marking again changes nothing)."""
    return await evacuations.mark_safe(
        session, staff=staff, evacuation_id=evacuation_id, visitor_id=visitor_id, now=clock.now()
    )


@router.post("/{evacuation_id}/close", responses=problem_responses(*_ONE, "evacuation-closed"))
async def close(
    evacuation_id: ResourceId, session: DbSession, staff: Staff, clock: ClockDep
) -> Evacuation:
    """Close the evacuation (audit log: `evacuation.closed`, with how many were safe and
    missing)."""
    return await evacuations.close(
        session, staff=staff, evacuation_id=evacuation_id, now=clock.now()
    )


@router.get(
    "/{evacuation_id}/report.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"},
        **problem_responses(*_ONE),
    },
)
async def report(evacuation_id: ResourceId, session: DbSession, staff: Staff) -> Response:
    """The evacuation as CSV: each person safe (when, marked by whom) or missing; cells guarded
    against formula injection."""
    evacuation = await evacuations.view(session, staff=staff, evacuation_id=evacuation_id)
    return Response(
        evacuations.report_csv(staff, evacuation),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="evacuation-{evacuation.id}.csv"'},
    )
