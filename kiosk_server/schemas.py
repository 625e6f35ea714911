"""Request and answer bodies of the `/v1` routes (the OpenAPI document is built from these)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kiosk_server.fields import PlainText, RequiredText, StrictInt
from kiosk_server.preferences import LOW_BALANCE_MAX_CENTS, Channels, NotifyEvent

SolutionCode = Field(max_length=32, description="Matched case-insensitively.")
Identifier = Field(max_length=64, description="Matched as typed, after trimming.")


class Health(BaseModel):
    """The service is up."""

    status: Literal["ok"] = "ok"


class SiteRef(BaseModel):
    """A site, as a device may name it."""

    code: str
    name: str


class SiteInfo(BaseModel):
    """A site, with what the terminal needs to format money and times."""

    code: str
    name: str
    currency: str
    locale: str
    time_zone: str
    overdraft_limit_cents: int = 0
    """How far below zero a payment may take a balance (0: never below zero): the terminal
    says a basket is too dear before asking to pay it."""


class Money(BaseModel):
    """An amount in integer cents of a currency."""

    amount_cents: int
    currency: str


class DeviceSite(SiteRef):
    """A site a device serves, with the time zone its terminals show the time in before anyone
    signs in (the welcome screen's clock)."""

    time_zone: str


class DeviceInfo(BaseModel):
    """The device making the request, and the sites it serves."""

    id: int
    name: str
    role: Literal["terminal", "till", "door", "kitchen"]
    sites: list[DeviceSite]
    roll_call: bool = False
    """It keeps its sites' roll call without anyone signed in (`GET /v1/device/roll-call`)."""


class Me(BaseModel):
    """The signed-in person."""

    identifier: str
    name: str
    roles: list[str]
    site: SiteInfo
    balance: Money
    language: Literal["fr", "en"] | None = None
    """The language the person chose (their settings): the kiosk switches to it."""


class Session(BaseModel):
    """A person's session on this device. Send `token` as `Authorization: Bearer <token>`."""

    token: str
    expires_at: dt.datetime
    me: Me


class IdentifyRequest(BaseModel):
    solution_code: RequiredText = SolutionCode
    identifier: RequiredText = Identifier


class Identified(BaseModel):
    """What the terminal does next: ask the PIN, or activate, or unlock."""

    account_state: Literal["active", "pending_activation", "locked"]
    site: SiteRef


class VerificationCodeRequest(BaseModel):
    solution_code: RequiredText = SolutionCode
    identifier: RequiredText = Identifier
    purpose: Literal["activate", "reset_pin"]
    language: Literal["fr", "en"] | None = Field(
        None, description="The message's language: the terminal's now (default: the site's)."
    )


class VerificationCodeSent(BaseModel):
    """Where the code went (masked) and until when it is valid."""

    channel: Literal["email", "sms"]
    destination: str
    expires_at: dt.datetime


class VerificationCodeCheck(BaseModel):
    solution_code: RequiredText = SolutionCode
    identifier: RequiredText = Identifier
    code: PlainText = Field(max_length=16)


class PinSetupGrant(BaseModel):
    """A one-time token that lets the person choose a PIN."""

    pin_setup_token: str
    expires_at: dt.datetime


class PinSetupRequest(BaseModel):
    pin_setup_token: PlainText = Field(max_length=128)
    pin: PlainText = Field(max_length=32)


class PinChangeRequest(BaseModel):
    """The current PIN, and the new one (six digits, not trivial, not the current one)."""

    current_pin: PlainText = Field(max_length=32)
    new_pin: PlainText = Field(max_length=32)


class PinChanged(BaseModel):
    """The PIN is changed; the person's other sessions are ended."""

    changed_at: dt.datetime


class PinConfirmation(BaseModel):
    """The person's PIN, confirming an action on their account."""

    pin: PlainText = Field(max_length=32)


class BadgeBlocked(BaseModel):
    """The badge is blocked: QRs made before are refused, the welcome letter's too."""

    blocked_at: dt.datetime


class SignInRequest(BaseModel):
    solution_code: RequiredText = SolutionCode
    identifier: RequiredText = Identifier
    pin: PlainText = Field(max_length=32)


class HelpEntry(BaseModel):
    """A question and its answer."""

    topic: str
    """What it is about (`sign-in`, `pin`, `top-up`, `badge`, `orders`, `visits`...)."""
    question: str
    answer: str


class Help(BaseModel):
    """A site's help: its questions and answers, and whom to ask otherwise."""

    site: SiteRef
    contact: str
    """The site's support contact ("" when the site gave none)."""
    entries: list[HelpEntry]


class SettingsOut(BaseModel):
    """The person's settings. `notify` has every event they choose from, with its channels
    (their choice, or the default): `order_ready`, `visitor_arrived`, `visit_request`,
    `visit_decided` (reception approved or rejected their request), `top_up_credited`,
    `low_balance` (a payment took the balance below `low_balance`). Every event is also in
    their notifications; security notices always go out."""

    language: Literal["fr", "en"] | None
    low_balance: Money | None
    low_balance_max: Money
    notify: dict[NotifyEvent, Channels]
    has_email: bool
    has_phone: bool


class SettingsPatch(BaseModel):
    """What to change; what is not given stays. `low_balance_cents: null` turns the alert off;
    `language: null` follows the site's."""

    model_config = ConfigDict(extra="forbid")

    language: Literal["fr", "en"] | None = None
    low_balance_cents: StrictInt | None = Field(None, ge=0, le=LOW_BALANCE_MAX_CENTS)
    notify: dict[NotifyEvent, Channels] | None = None


class Profile(BaseModel):
    """What the kiosk shows of the person: never their email or phone in full (a shared
    screen), only masked."""

    name: str
    identifier: str
    email: str | None
    """Masked: `j***@example.com`."""
    phone: str | None
    """Masked: `+33 ** ** ** 42`."""


class ContactChangeRequest(BaseModel):
    """A new email address or phone number; a code is sent to it."""

    channel: Literal["email", "phone"]
    value: RequiredText = Field(max_length=254)
    language: Literal["fr", "en"] | None = None
    """The code's message in the language the person uses at the terminal."""


class ContactChangeConfirm(BaseModel):
    code: PlainText = Field(max_length=16)


class StatementSent(BaseModel):
    """The statement is on its way, as a PDF, to the person's email (masked)."""

    destination: str
