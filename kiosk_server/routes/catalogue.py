"""The site's catalogue, as the signed-in person's terminal shows it."""

from __future__ import annotations

from fastapi import APIRouter

from kiosk_server.deps import ClockDep, CurrentPerson, DbSession
from kiosk_server.problems import problem_responses
from kiosk_server.routes import API
from kiosk_server.schemas_orders import Catalogue
from kiosk_server.services import catalogue

router = APIRouter(prefix=API, tags=["orders"])


@router.get(
    "/catalogue",
    responses=problem_responses(
        "device-key-missing",
        "device-key-invalid",
        "device-role-forbidden",
        "session-missing",
        "session-invalid",
    ),
)
async def get_catalogue(session: DbSession, person: CurrentPerson, clock: ClockDep) -> Catalogue:
    """Every active item of the person's site with its price, VAT rate and allergens. Items that
    cannot be ordered now are listed too, with `available: false` and a `reason`
    (`not_now`, `deadline_passed`, `sold_out`), for the terminal to show greyed out."""
    return await catalogue.catalogue(session, site=person.site, now=clock.now())
