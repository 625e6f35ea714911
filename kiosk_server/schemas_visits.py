"""Request and answer bodies of the visit routes (host, reception, visitor desk), and their
problem codes.

Free text (names, company, reason, place) is stored as given (trimmed), markup included:
terminals show it as plain text. Control characters (C0, C1, DEL, bidi controls) are refused at
input with a `validation-failed` naming the field, never silently changed (`kiosk_server.fields`).
What the schema cannot say (a day in the past, an arrival window already over, a visitor without
a contact) is refused with `visit-invalid`, its `errors` naming the fields as well.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from kiosk_server.fields import (
    Email,
    IsoDate,
    LocalTime,
    OptionalText,
    Phone,
    PlainText,
    RequiredText,
    StrictBool,
)
from kiosk_server.problems import PROBLEMS
from kiosk_server.schemas import SiteRef

VISIT_PROBLEMS: dict[str, tuple[int, str]] = {
    "visit-invalid": (422, "Visit request not possible"),
    "visit-unknown": (404, "Unknown visit"),
    "visit-not-editable": (409, "Visit no longer editable"),
    "visit-transition-forbidden": (409, "Visit transition forbidden"),
    "visitor-unknown": (404, "Unknown visitor"),
    "visitor-not-checked-in": (409, "Visitor not checked in"),
    "host-unknown": (404, "Unknown host"),
    "host-ambiguous": (409, "Several hosts with this name"),
    "host-search-off": (403, "Host search turned off"),
    "rules-not-accepted": (422, "Site rules not accepted"),
    "photo-required": (422, "A photo is required"),
    "photo-invalid": (422, "Not a usable photo"),
    "photo-none": (404, "No photo"),
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


def _at_least_one_visitor(value: list[VisitorIn]) -> list[VisitorIn]:
    if not value:
        raise ValueError("add at least one visitor")
    return value


class VisitorIn(BaseModel):
    """A visitor as the host declares them: a name, and an email and/or a phone for the
    invitation. Whether the email and the phone are well formed is checked with the visit's
    days and window (`visit-invalid`), so that a host sees every wrong field at once."""

    first_name: RequiredText = Field(max_length=100)
    last_name: RequiredText = Field(max_length=100)
    company: PlainText = Field("", max_length=100)
    email: OptionalText = Field(None, max_length=254)
    phone: OptionalText = Field(None, max_length=32)


Visitors = Annotated[
    list[VisitorIn],
    AfterValidator(_at_least_one_visitor),
    Field(max_length=MAX_VISITORS, json_schema_extra={"minItems": 1}),
]


class VisitCreate(BaseModel):
    """A new visit request; `submit` sends it at once, else it is kept as a draft."""

    visitors: Visitors
    first_day: IsoDate
    last_day: IsoDate | None = Field(None, description="The first day when not given.")
    arrival_from: LocalTime
    arrival_until: LocalTime
    reason: RequiredText = Field(max_length=200)
    place: PlainText = Field("", max_length=100)
    submit: StrictBool = False


class VisitPatch(BaseModel):
    """Changes to a draft or requested visit; `visitors`, when given, replaces the list."""

    visitors: Visitors | None = None
    first_day: IsoDate | None = None
    last_day: IsoDate | None = None
    arrival_from: LocalTime | None = None
    arrival_until: LocalTime | None = None
    reason: RequiredText | None = Field(None, max_length=200)
    place: PlainText | None = Field(None, max_length=100)


class RejectRequest(BaseModel):
    reason: RequiredText = Field(max_length=200)


class WalkInRequest(BaseModel):
    """A visitor without an invitation asking for their host by full name (an exact match)."""

    first_name: RequiredText = Field(max_length=100)
    last_name: RequiredText = Field(max_length=100)
    company: PlainText = Field("", max_length=100)
    email: Email | None = Field(None, max_length=254)
    phone: Phone | None = Field(None, max_length=32)
    host_full_name: RequiredText = Field(max_length=200)
    solution_code: RequiredText | None = Field(
        None,
        max_length=32,
        description="Visitor desk only: the site, when the terminal serves several.",
    )


class DeskCredentials(BaseModel):
    """What a visitor presents: the scanned invitation `token`, or the short `code` and their
    `last_name`."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["token"], "properties": {"token": {"type": "string"}}},
                {
                    "required": ["code", "last_name"],
                    "properties": {"code": {"type": "string"}, "last_name": {"type": "string"}},
                },
            ]
        }
    )

    token: str | None = Field(
        None, min_length=1, max_length=TOKEN_FIELD_MAX, description="The text of the scanned QR."
    )
    code: RequiredText | None = Field(None, max_length=32)
    last_name: RequiredText | None = Field(None, max_length=100)
    language: PlainText = Field("fr", max_length=8, description="For the rules text (`fr`, `en`).")

    @model_validator(mode="after")
    def _token_or_code(self) -> DeskCredentials:
        if self.token is None and (self.code is None or self.last_name is None):
            raise ValueError("send the scanned token, or the code and the last name")
        return self


PHOTO_MAX_BYTES = 40 * 1024
"""The largest photo kept: a kiosk's still is a few kilobytes (320×240, JPEG)."""


class DeskCheckIn(DeskCredentials):
    rules_accepted: StrictBool = Field(description="The visitor accepted the site's rules.")
    photo: str | None = Field(
        None,
        max_length=(PHOTO_MAX_BYTES + 2) // 3 * 4,
        pattern=r"^[A-Za-z0-9+/]*={0,2}$",
        description="Where the site asks for one (`DeskVisit.photo`): the visitor's still, a "
        "JPEG in base64, 40 KiB at most. Left out when the visitor declines (where the site "
        "allows it); not kept where the site takes no photos.",
        json_schema_extra={"contentEncoding": "base64", "contentMediaType": "image/jpeg"},
    )


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
    arrival_from: LocalTime
    arrival_until: LocalTime
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
    arrival_from: LocalTime
    arrival_until: LocalTime
    place: str
    state: VisitState
    """The visit's state (`requested` ones wait for approval)."""
    walk_in: bool
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    overdue: bool
    """On site past the end of their window."""
    held: bool = False
    """Their check-in waits for reception (a watchlist match): `GET …/hold` says why."""
    has_photo: bool = False
    """The kiosk took their still at check-in: `GET …/visitors/{id}/photo`."""
    refused: bool = False
    """Reception refused them entry."""


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
    arrival_until: LocalTime
    overdue: bool


class RollCall(BaseModel):
    """Everyone on site now: checked in, not checked out, the site's closing time not passed."""

    site: SiteRef
    generated_at: dt.datetime
    people: list[RollCallRow]


class DeviceRollCalls(BaseModel):
    """The roll call of each site the device serves, by site code."""

    roll_calls: list[RollCall]


class HostMatches(BaseModel):
    """The people of the site whose name matches what a visitor typed: names only, five at
    most; `more` when others match too (the visitor types on)."""

    names: list[str]
    more: bool


class WalkInCreated(BaseModel):
    """A walk-in's visit, requested for today: it waits for the host's or reception's approval.
    The kiosk may hold `invitation_token` while the visitor waits, and check them in with it
    once approved (`invitation-not-approved` until then)."""

    visit_id: int
    visitor_id: int
    state: VisitState
    host_name: str
    invitation_token: str = Field(repr=False)
    wait_seconds: int
    """How long the kiosk lets the visitor wait for the answer (the site's
    `walk_in_wait_seconds`) before sending them to the reception desk."""


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
    arrival_from: LocalTime
    arrival_until: LocalTime
    place: str
    action: Literal["check_in", "check_out"]
    rules: str
    """The site's rules in `rules_language` (to accept before checking in)."""
    rules_language: str
    photo: Literal["off", "optional", "required"] = "off"
    """Whether the kiosk takes the visitor's still at check-in (the site's `visitor_photo`)."""


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
