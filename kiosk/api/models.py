"""What the service answers, as typed models mirroring docs/api.md. Plain data: strings from the
service are kept as sent (the UI makes them plain text at display, with `kiosk.text.plain`)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AccountState = Literal["active", "pending_activation", "locked"]
DeviceRole = Literal["terminal", "till", "door", "kitchen"]
Channel = Literal["email", "sms"]
VerificationPurpose = Literal["activate", "reset_pin"]


class _Answer(BaseModel):
    # Unknown fields are ignored, so that a newer service can add fields without breaking
    # terminals already deployed; answers are never changed in place.
    model_config = ConfigDict(frozen=True, extra="ignore")


class Health(_Answer):
    """`GET /v1/health`."""

    status: str


class Money(_Answer):
    """An amount in integer cents (the currency's minor unit) and its ISO 4217 currency."""

    amount_cents: int
    currency: str


class SiteRef(_Answer):
    """A site, as a device or an identification names it."""

    code: str
    """The solution code (upper-case)."""
    name: str


class SiteDetails(_Answer):
    """The signed-in person's site."""

    code: str
    name: str
    currency: str
    locale: str
    """The site's locale (`fr_FR`...)."""
    time_zone: str
    """IANA time zone name (`Europe/Paris`)."""


class DeviceInfo(_Answer):
    """`GET /v1/device`: this device and the sites it serves."""

    id: int
    name: str
    role: DeviceRole
    sites: list[SiteRef]


class Identity(_Answer):
    """`POST /v1/auth/identify`: what the terminal may know of an identifier on a site."""

    account_state: AccountState
    site: SiteRef


class VerificationSent(_Answer):
    """`POST /v1/auth/verification-codes`: where the code went (masked)."""

    channel: Channel
    destination: str
    """Masked contact (`j***@example.com`, `+33 6** ** ** 42`)."""
    expires_at: dt.datetime


class PinSetup(_Answer):
    """`POST /v1/auth/verification-codes/check`: the one-time token to choose a PIN with."""

    pin_setup_token: str = Field(repr=False)
    expires_at: dt.datetime


class Me(_Answer):
    """`GET /v1/me`: the signed-in person."""

    identifier: str
    name: str
    roles: list[str]
    site: SiteDetails
    balance: Money


class Session(_Answer):
    """`POST /v1/auth/sessions`, `POST /v1/auth/pin`: a person's session. The client keeps the
    token; screens get `me`."""

    token: str = Field(repr=False)
    expires_at: dt.datetime
    me: Me


class ProblemDocument(_Answer):
    """An RFC 9457 problem document with the service's extension members."""

    type: str | None = None
    title: str | None = None
    status: int | None = None
    code: str
    detail: str | None = None
    instance: str | None = None
    retry_after: int | None = None
    errors: list[ProblemFieldError] | None = None


class ProblemFieldError(_Answer):
    """One entry of `errors` on `validation-failed`."""

    field: str = ""
    message: str = ""


ProblemDocument.model_rebuild()
