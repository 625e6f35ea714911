from __future__ import annotations

from fastapi import APIRouter

from kiosk_server.deps import CurrentPerson, DbSession
from kiosk_server.problems import problem_responses
from kiosk_server.schemas import Me
from kiosk_server.services import accounts

router = APIRouter(tags=["me"])


@router.get(
    "/me",
    responses=problem_responses(
        "device-key-missing",
        "device-key-invalid",
        "device-role-forbidden",
        "session-missing",
        "session-invalid",
    ),
)
async def get_me(session: DbSession, person: CurrentPerson) -> Me:
    """The signed-in person, their site and their balance."""
    return await accounts.me(session, account=person.account, site=person.site)
