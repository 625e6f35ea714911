"""The watchlist at the reception desk (a person of the `reception` role signed in): the site's
entries, and the check-ins they hold, to let in or refuse. Never shown to visitors."""

from __future__ import annotations

from fastapi import APIRouter, status

from kiosk_server.deps import ClockDep, DbSession, ResourceId, Terminal
from kiosk_server.problems import problem_responses
from kiosk_server.routes import API
from kiosk_server.routes.reception import STAFF_PROBLEMS, Staff
from kiosk_server.schemas_visits import VisitorBadge
from kiosk_server.schemas_watchlist import HeldCheckIn, Watchlist, WatchlistEntry, WatchlistEntryIn
from kiosk_server.services import reception, watchlist

router = APIRouter(prefix=f"{API}/reception", tags=["reception"])


@router.get("/watchlist", responses=problem_responses(*STAFF_PROBLEMS))
async def entries(session: DbSession, staff: Staff) -> Watchlist:
    """The site's watchlist, newest first."""
    found = await watchlist.entries(session, site=staff.site)
    return Watchlist(entries=[watchlist.entry_out(entry) for entry in found])


@router.post(
    "/watchlist", status_code=status.HTTP_201_CREATED, responses=problem_responses(*STAFF_PROBLEMS)
)
async def add(
    body: WatchlistEntryIn, session: DbSession, staff: Staff, clock: ClockDep
) -> WatchlistEntry:
    """Add a person (audit `watchlist.added`, with who added it): visitors whose name matches
    are held at check-in from now on."""
    entry = await watchlist.add(
        session,
        site=staff.site,
        body=body,
        added_by=staff.account.name,
        account=staff.account,
        now=clock.now(),
    )
    return watchlist.entry_out(entry)


@router.delete(
    "/watchlist/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*STAFF_PROBLEMS, "watchlist-entry-unknown"),
)
async def remove(entry_id: ResourceId, session: DbSession, staff: Staff, clock: ClockDep) -> None:
    """Remove an entry (audit `watchlist.removed`). Check-ins it held stay held until
    reception decides."""
    await watchlist.remove(
        session, site=staff.site, entry_id=entry_id, account=staff.account, now=clock.now()
    )


@router.get(
    "/visitors/{visitor_id}/hold", responses=problem_responses(*STAFF_PROBLEMS, "visitor-unknown")
)
async def hold(visitor_id: ResourceId, session: DbSession, staff: Staff) -> HeldCheckIn:
    """Why a visitor's check-in is held: the watchlist entry their name matched."""
    return await reception.hold(session, staff=staff, visitor_id=visitor_id)


@router.post(
    "/visitors/{visitor_id}/release",
    responses=problem_responses(
        *STAFF_PROBLEMS,
        "visitor-unknown",
        "visitor-not-held",
        "invitation-cancelled",
        "invitation-expired",
        "invitation-not-approved",
        "invitation-not-today",
        "invitation-used",
    ),
)
async def release(
    visitor_id: ResourceId, session: DbSession, device: Terminal, staff: Staff, clock: ClockDep
) -> VisitorBadge:
    """Let a held or refused visitor in and check them in (audit `watchlist.released`); later
    check-ins of this visit are not held. Answers the badge to print."""
    return await reception.release(
        session, staff=staff, device=device, visitor_id=visitor_id, now=clock.now()
    )


@router.post(
    "/visitors/{visitor_id}/refuse",
    responses=problem_responses(*STAFF_PROBLEMS, "visitor-unknown", "visitor-not-held"),
)
async def refuse(
    visitor_id: ResourceId, session: DbSession, staff: Staff, clock: ClockDep
) -> HeldCheckIn:
    """Refuse a held visitor entry (audit `watchlist.refused`): their invitation checks nobody
    in; reception may still let them in later."""
    return await reception.refuse(session, staff=staff, visitor_id=visitor_id, now=clock.now())
