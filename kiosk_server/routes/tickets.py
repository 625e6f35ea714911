"""The signed-in person's ticket history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kiosk_server.cursors import CURSOR_PATTERN
from kiosk_server.deps import CurrentPerson, DbSession, ResourceId
from kiosk_server.problems import problem_responses
from kiosk_server.routes import API
from kiosk_server.schemas_money import TicketDetail, TicketPage
from kiosk_server.services import tickets

router = APIRouter(prefix=f"{API}/me/tickets", tags=["tickets"])

_PERSON = (
    "device-key-missing",
    "device-key-invalid",
    "device-role-forbidden",
    "session-missing",
    "session-invalid",
    "validation-failed",
)


@router.get("", responses=problem_responses(*_PERSON, "cursor-invalid"))
async def list_tickets(
    session: DbSession,
    person: CurrentPerson,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=tickets.MAX_PAGE)] = tickets.DEFAULT_PAGE,
) -> TicketPage:
    """Purchases, top-ups, refunds and adjustments, newest first, one page at a time."""
    return await tickets.list_tickets(session, account=person.account, cursor=cursor, limit=limit)


@router.get("/{ticket_id}", responses=problem_responses(*_PERSON, "ticket-unknown"))
async def get_ticket(
    session: DbSession, person: CurrentPerson, ticket_id: ResourceId
) -> TicketDetail:
    """One ticket with its lines and its VAT summary."""
    return await tickets.ticket_detail(session, account=person.account, ticket_id=ticket_id)
