"""Bodies and problem codes of the watchlist routes (reception only; never shown to visitors)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from kiosk_server.fields import IsoDate, RequiredText
from kiosk_server.problems import PROBLEMS

WATCHLIST_PROBLEMS: dict[str, tuple[int, str]] = {
    "watchlist-entry-unknown": (404, "Unknown watchlist entry"),
    "check-in-held": (409, "Check-in to be completed at reception"),
    "visitor-not-held": (409, "This visitor's check-in is not held"),
}
"""The codes of these routes (docs/api.md), with their status and title. `check-in-held` is
what a visitor's own check-in answers when held: it says only to see reception."""

for _code, _known in WATCHLIST_PROBLEMS.items():
    PROBLEMS.setdefault(_code, _known)


class WatchlistEntryIn(BaseModel):
    """A person reception should look at before they come in."""

    full_name: RequiredText = Field(max_length=200)
    birth_date: IsoDate | None = None
    reason: RequiredText = Field(max_length=500)


class WatchlistEntry(BaseModel):
    id: int
    full_name: str
    birth_date: dt.date | None
    reason: str
    added_by: str
    created_at: dt.datetime


class Watchlist(BaseModel):
    """The site's entries, newest first."""

    entries: list[WatchlistEntry]


class HeldCheckIn(BaseModel):
    """Why a visitor's check-in waits for reception: the entry their name matched."""

    visitor_id: int
    entry: WatchlistEntry | None
    """Null when the entry was removed since (the hold stays until reception decides)."""
    held_at: dt.datetime | None
    released_at: dt.datetime | None
    refused_at: dt.datetime | None
