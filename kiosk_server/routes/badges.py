"""The badge: a signed-in person's rotating token, and doors and tills checking one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from kiosk_server.deps import ClockDep, CurrentPerson, DbSession, require_role
from kiosk_server.models import Device
from kiosk_server.problems import problem_responses
from kiosk_server.routes import API
from kiosk_server.schemas import SiteRef
from kiosk_server.schemas_badges import BadgeHolder, BadgeToken, BadgeVerifyRequest
from kiosk_server.services import badges

router = APIRouter(prefix=API, tags=["badges"])

_DEVICE = ("device-key-missing", "device-key-invalid", "device-role-forbidden")

BadgeReader = Annotated[Device, Depends(require_role("door", "till"))]


@router.get(
    "/me/badge",
    responses=problem_responses(*_DEVICE, "session-missing", "session-invalid"),
)
async def get_badge(session: DbSession, person: CurrentPerson, clock: ClockDep) -> BadgeToken:
    """The signed-in person's current badge token. Fetch the next one at `refresh_at`."""
    issued = await badges.issue_badge(session, person.account, clock.now(), site=person.site)
    return BadgeToken(
        token=issued.token,
        step_seconds=issued.step_seconds,
        refresh_at=issued.refresh_at,
        valid_until=issued.valid_until,
        name=person.account.name,
        site=SiteRef(code=person.site.code, name=person.site.name),
    )


@router.post(
    "/badges/verify",
    responses=problem_responses(
        *_DEVICE,
        "validation-failed",
        "badge-malformed",
        "badge-tampered",
        "badge-expired",
        "badge-other-site",
        "account-blocked",
    ),
)
async def verify_badge(
    body: BadgeVerifyRequest, session: DbSession, device: BadgeReader, clock: ClockDep
) -> BadgeHolder:
    """Whose badge a door or a till read. Uses nothing up: a door may ask again within the
    token's window."""
    account, site = await badges.verify_badge(
        session, device=device, token=body.token, now=clock.now()
    )
    return BadgeHolder(
        name=account.name,
        identifier=account.identifier,
        site=SiteRef(code=site.code, name=site.name),
    )
