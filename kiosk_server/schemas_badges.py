"""Request and answer bodies of the badge and connect-QR routes, and their problem codes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from kiosk_server.problems import PROBLEMS
from kiosk_server.schemas import SiteRef

BADGE_PROBLEMS: dict[str, tuple[int, str]] = {
    "badge-malformed": (400, "Not a badge"),
    "badge-tampered": (422, "Badge not genuine"),
    "badge-expired": (410, "Badge expired"),
    "badge-other-site": (403, "Badge of another site"),
    "badge-already-used": (409, "Badge already used"),
    "connect-malformed": (400, "Not a connect code"),
    "connect-invalid": (422, "Connect code not genuine"),
    "connect-revoked": (410, "Connect code revoked"),
    "connect-other-site": (404, "Connect code of another site"),
}
"""The codes of these routes (docs/api.md), with their status and title."""


def register_problems() -> None:
    """Add these codes to the service's table, so that `ProblemError` and `problem_responses`
    know their status (idempotent; run when this module is imported)."""
    for code, known in BADGE_PROBLEMS.items():
        PROBLEMS.setdefault(code, known)


register_problems()

# Longer than any token, so that an oversized payload is a calm `*-malformed`, not a
# validation error, yet nothing huge is read.
TOKEN_FIELD_MAX = 256


class BadgeToken(BaseModel):
    """The signed-in person's badge: the token to show as a QR, and when to fetch the next."""

    token: str
    """Changes every `step_seconds`; shown as a QR in alphanumeric mode."""
    step_seconds: int
    refresh_at: dt.datetime
    """When the next token starts: fetch it then (the current one stays valid until
    `valid_until`, so the terminal never shows an expired token)."""
    valid_until: dt.datetime
    name: str
    site: SiteRef


class BadgeVerifyRequest(BaseModel):
    token: str = Field(max_length=TOKEN_FIELD_MAX, description="The text of the scanned QR.")


class BadgeHolder(BaseModel):
    """Whose badge it is (a door lets them in; a till shows the name)."""

    name: str
    identifier: str
    site: SiteRef


class ConnectRequest(BaseModel):
    connect_token: str = Field(
        max_length=TOKEN_FIELD_MAX, description="The text of the scanned welcome-letter QR."
    )


class Connected(BaseModel):
    """Who the scanned connect QR names: the terminal goes on as after typing the identifier."""

    solution_code: str
    identifier: str
    account_state: Literal["active", "pending_activation", "locked"]
    site: SiteRef
