"""Help for anyone at a terminal, signed in or not: the site's questions and answers."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from kiosk_server.deps import DbSession, Terminal
from kiosk_server.problems import problem_responses
from kiosk_server.routes import API
from kiosk_server.schemas import Help
from kiosk_server.services import help as site_help
from kiosk_server.services.devices import site_for_code

router = APIRouter(prefix=API, tags=["help"])


@router.get(
    "/help",
    responses=problem_responses(
        "device-key-missing",
        "device-key-invalid",
        "device-role-forbidden",
        "solution-unknown",
        "validation-failed",
    ),
)
async def get_help(
    session: DbSession,
    device: Terminal,
    language: Annotated[Literal["fr", "en"] | None, Query()] = None,
    solution_code: Annotated[str | None, Query(max_length=32)] = None,
) -> Help:
    """The help of the site named by `solution_code` (one the terminal serves; its first site
    when not given), in `language` (the site's by default; an entry not given in it is in the
    site's), with the support contact. Needs no signed-in person: the welcome screen shows it."""
    site = site_for_code(device, solution_code) if solution_code else device.sites[0]
    return await site_help.site_help(session, site=site, language=language)
