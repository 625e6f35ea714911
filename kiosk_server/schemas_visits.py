"""Request and answer bodies of the visit routes (host, reception, visitor desk), and their
problem codes.

Free text (names, company, reason, place) is stored as given, markup and escape sequences
included: terminals show it as plain text. Control characters (C0, C1, DEL, bidi overrides) are
refused at input with a `validation-failed` naming the field, never silently changed.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from kiosk_server.problems import PROBLEMS
from kiosk_server.schemas import SiteRef

VISIT_PROBLEMS: dict[str, tuple[int, str]] = {
    "visit-unknown": (404, "Unknown visit"),
    "visit-not-editable": (409, "Visit no longer editable"),
    "visit-transition-forbidden": (409, "Visit transition forbidden"),
    "visitor-unknown": (404, "Unknown visitor"),
    "visitor-not-checked-in": (409, "Visitor not checked in"),
    "host-unknown": (404, "Unknown host"),
    "host-ambiguous": (409, "Several hosts with this name"),
    "rules-not-accepted": (422, "Site rules not accepted"),
    "invitation-unknown": (404, "Unknown invitation"),
    "invitation-other-site": (403, "Invitation of another site"),
    "invitation-not-today": (409, "Invitation not valid now"),
    "invitation-cancelled": (410, "Invitation cancelled"),
    "invitation-used": (409, "Invitation already used"),
    "invitation-expired": (410, "Invitation expired"),
    "invitation-not-approved": (409, "Visit not approved yet"),
}
"""The codes of these routes (docs/api.md), with their status and title."""


def register_problems() -> None:
    """Add these codes to the service's table (idempotent; run when this module is imported)."""
    for code, known in VISIT_PROBLEMS.items():
        PROBLEMS.setdefault(code, known)


register_problems()

VisitState = Literal[
    "draft",
    "requested",
    "approved",
    "rejected",
    "cancelled",
    "checked_in",
    "checked_out",
    "expired",
]
MAX_VISITORS = 20
TOKEN_FIELD_MAX = 256


class VisitorIn(BaseModel):
    """A visitor as the host declares them: a name, and an email and/or a phone for the
    invitation."""

    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    company: str = Field("", max_length=100)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=32)


class VisitCreate(BaseModel):
    """A new visit request; `submit` sends it at once, else it is kept as a draft."""

    visitors: list[VisitorIn] = Field(max_length=MAX_VISITORS)
    first_day: dt.date
    last_day: dt.date | None = Field(None, description="The first day when not given.")
    arrival_from: dt.time = Field(description="Site time.")
    arrival_until: dt.time = Field(description="Site time.")
    reason: str = Field(max_length=200)
    place: str = Field("", max_length=100)
    submit: bool = False


class VisitPatch(BaseModel):
    """Changes to a draft or requested visit; `visitors`, when given, replaces the list."""

    visitors: list[VisitorIn] | None = Field(None, max_length=MAX_VISITORS)
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    arrival_from: dt.time | None = None
    arrival_until: dt.time | None = None
    reason: str | None = Field(None, max_length=200)
    place: str | None = Field(None, max_length=100)


class RejectRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


class WalkInRequest(BaseModel):
    """A visitor without an invitation asking for their host by full name (an exact match)."""

    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    company: str = Field("", max_length=100)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=32)
    host_full_name: str = Field(min_length=1, max_length=200)
    solution_code: str | None = Field(
        None,
        max_length=32,
        description="Visitor desk only: the site, when the terminal serves several.",
    )


class DeskCredentials(BaseModel):
    """What a visitor presents: the scanned invitation `token`, or the short `code` and their
    `last_name`."""

    token: str | None = Field(None, max_length=TOKEN_FIELD_MAX)
    code: str | None = Field(None, max_length=32)
    last_name: str | None = Field(None, max_length=100)
    language: str = Field("fr", max_length=8, description="For the rules text (`fr`, `en`).")


class DeskCheckIn(DeskCredentials):
    rules_accepted: bool = Field(description="The visitor accepted the site's rules.")


class VisitorOut(BaseModel):
    id: int
    first_name: str
    last_name: str
    company: str
    email: str | None
    phone: str | None
    invitation_sent_at: dt.datetime | None
    rules_accepted_at: dt.datetime | None
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    anonymised: bool


class VisitEventOut(BaseModel):
    """One step of a visit's history."""

    kind: str
    at: dt.datetime
    by_name: str | None
    """The person who did it (host, reception), when a person did."""
    by_device: str | None
    """The terminal it happened on."""
    visitor_name: str | None
    detail: str


class VisitSummary(BaseModel):
    id: int
    state: VisitState
    first_day: dt.date
    last_day: dt.date
    arrival_from: dt.time
    arrival_until: dt.time
    reason: str
    place: str
    walk_in: bool
    visitor_names: list[str]
    created_at: dt.datetime


class VisitDetail(VisitSummary):
    host_name: str
    rejection_reason: str | None
    editable: bool
    """The host may still change it (draft or requested)."""
    cancellable: bool
    """The host may still cancel it (no visitor checked in yet)."""
    visitors: list[VisitorOut]
    history: list[VisitEventOut]


class VisitList(BaseModel):
    """The host's visits: upcoming first (soonest first), then past ones (latest first)."""

    items: list[VisitSummary]


class ReceptionRow(BaseModel):
    """One visitor of the day, as the reception desk lists them."""

    visitor_id: int
    visit_id: int
    first_name: str
    last_name: str
    company: str
    host_name: str
    first_day: dt.date
    last_day: dt.date
    arrival_from: dt.time
    arrival_until: dt.time
    place: str
    state: VisitState
    """The visit's state (`requested` ones wait for approval)."""
    walk_in: bool
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    overdue: bool
    """On site past the end of their window."""


class ReceptionDay(BaseModel):
    day: dt.date
    generated_at: dt.datetime
    expected: list[ReceptionRow]
    on_site: list[ReceptionRow]
    left: list[ReceptionRow]


class RollCallRow(BaseModel):
    visitor_id: int
    visit_id: int
    first_name: str
    last_name: str
    company: str
    host_name: str
    place: str
    checked_in_at: dt.datetime
    arrival_until: dt.time
    overdue: bool


class RollCall(BaseModel):
    """Everyone on site now: checked in, not checked out, the site's closing time not passed."""

    site: SiteRef
    generated_at: dt.datetime
    people: list[RollCallRow]


class WalkInCreated(BaseModel):
    """A walk-in's visit, requested for today: it waits for the host's or reception's approval.
    The kiosk may hold `invitation_token` while the visitor waits, and check them in with it
    once approved (`invitation-not-approved` until then)."""

    visit_id: int
    visitor_id: int
    state: VisitState
    host_name: str
    invitation_token: str = Field(repr=False)


class DeskVisit(BaseModel):
    """What the visitor sees of their visit before confirming."""

    site: SiteRef
    visit_id: int
    visitor_id: int
    first_name: str
    last_name: str
    company: str
    host_name: str
    first_day: dt.date
    last_day: dt.date
    arrival_from: dt.time
    arrival_until: dt.time
    place: str
    action: Literal["check_in", "check_out"]
    rules: str
    """The site's rules in `rules_language` (to accept before checking in)."""
    rules_language: str


class VisitorBadge(BaseModel):
    """What a visitor badge shows (printed or on screen); its QR is `checkout_token`."""

    site: SiteRef
    visit_id: int
    visitor_id: int
    first_name: str
    last_name: str
    company: str
    host_name: str
    day: dt.date
    place: str
    checked_in_at: dt.datetime
    checkout_token: str = Field(repr=False)


class CheckedOut(BaseModel):
    visitor_id: int
    first_name: str
    last_name: str
    checked_out_at: dt.datetime
