"""Bodies and problem codes of the evacuation routes (the reception desk's muster)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from kiosk_server.problems import PROBLEMS
from kiosk_server.schemas import SiteRef

EVACUATION_PROBLEMS: dict[str, tuple[int, str]] = {
    "evacuation-none": (404, "No evacuation in progress"),
    "evacuation-unknown": (404, "Unknown evacuation"),
    "evacuation-in-progress": (409, "An evacuation is already in progress"),
    "evacuation-closed": (409, "Evacuation closed"),
}
"""The codes of these routes (docs/api.md), with their status and title."""

for _code, _known in EVACUATION_PROBLEMS.items():
    PROBLEMS.setdefault(_code, _known)


class MusterPerson(BaseModel):
    """A visitor on site when the evacuation started; `safe_at` once marked safe at the muster
    point (and by whom), null while missing."""

    visitor_id: int
    first_name: str
    last_name: str
    company: str
    host_name: str
    checked_in_at: dt.datetime
    safe_at: dt.datetime | None
    marked_by: str | None


class Evacuation(BaseModel):
    """An evacuation and its muster: the missing first, then the safe, each by name."""

    id: int
    site: SiteRef
    started_at: dt.datetime
    started_by: str
    closed_at: dt.datetime | None
    closed_by: str | None
    safe: int
    missing: int
    people: list[MusterPerson]
