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

    status: str = "ok"
    """Always sent as `ok`; the document gives it as a default."""


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
    overdraft_limit_cents: int = 0
    """How far below zero a payment may take a balance (0: never below zero)."""


class DeviceSite(SiteRef):
    """A site this device serves."""

    time_zone: str = ""
    """The site's time zone (IANA name): the welcome screen's clock shows it."""


class DeviceInfo(_Answer):
    """`GET /v1/device`: this device and the sites it serves."""

    id: int
    name: str
    role: DeviceRole
    sites: list[DeviceSite]
    roll_call: bool = False
    """It keeps its sites' roll call without anyone signed in (`device_roll_calls`)."""


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
    language: Literal["fr", "en"] | None = None
    """The language the person chose in their settings (None: the kiosk's)."""


class Session(_Answer):
    """`POST /v1/auth/sessions`, `POST /v1/auth/pin`: a person's session. The client keeps the
    token; screens get `me`."""

    token: str = Field(repr=False)
    expires_at: dt.datetime
    me: Me


class BadgeToken(_Answer):
    """`GET /v1/me/badge`: the signed-in person's current badge token, shown as a QR."""

    token: str = Field(repr=False)
    step_seconds: int
    refresh_at: dt.datetime
    """Fetch the next token then; the current one is accepted until `valid_until`."""
    valid_until: dt.datetime
    name: str
    site: SiteRef


class Connected(_Answer):
    """`POST /v1/auth/connect`: who a scanned connect QR names. The terminal goes on as after
    typing `identifier` on `solution_code` (PIN, activation or unlock, by `account_state`)."""

    solution_code: str
    identifier: str
    account_state: AccountState
    site: SiteRef


TopUpState = Literal["pending", "succeeded", "failed", "expired", "cancelled"]


class TopUp(_Answer):
    """An online top-up (`/v1/me/top-ups`). While `pending`, the person pays at `checkout_url`
    (shown as a QR and as text) until `expires_at`; once `succeeded`, `balance_after` is the
    balance the credit left."""

    id: int
    state: TopUpState
    amount: Money
    checkout_url: str
    created_at: dt.datetime
    expires_at: dt.datetime
    completed_at: dt.datetime | None = None
    credited_after_state: str | None = None
    """Set when the money arrived after the top-up was marked expired, cancelled or failed:
    it was credited all the same."""
    ticket_id: int | None = None
    balance_after: Money | None = None


class TopUpPage(_Answer):
    """`GET /v1/me/top-ups`: newest first; `next_cursor` is None on the last page."""

    items: list[TopUp]
    next_cursor: str | None = None


class TopUpOptions(_Answer):
    """`GET /v1/me/top-ups/options`: what the top-up screen offers."""

    available: bool
    """False: online top-ups are off on this site (starting one is `payments-unavailable`)."""
    sandbox: bool
    """True: a test checkout (no real money); the screen may say so."""
    currency: str
    presets: list[Money]
    min: Money
    max: Money


TicketKind = Literal["purchase", "top_up", "refund", "adjustment"]


class TicketSummary(_Answer):
    """A ticket in the person's history (`GET /v1/me/tickets`): a purchase, a top-up, a refund
    or an adjustment. `amount` is the signed effect on the balance (negative for a purchase)."""

    id: int
    kind: TicketKind
    created_at: dt.datetime
    place: str
    total: Money
    amount: Money
    balance_after: Money
    order_id: int | None = None
    """The order it paid or refunded, if an order made it."""
    top_up_id: int | None = None
    """The online top-up it credited, if one made it."""


class TicketPage(_Answer):
    """`GET /v1/me/tickets`: newest first; `next_cursor` is None on the last page."""

    items: list[TicketSummary]
    next_cursor: str | None = None


class TicketLine(_Answer):
    """A line of a ticket; prices include VAT, the rate is in basis points (5.5 % = 550)."""

    item: str
    quantity: int
    unit_price: Money
    vat_rate_bp: int
    line_total: Money


class VatRateSummary(_Answer):
    """A ticket's lines at one VAT rate: base + VAT = total."""

    rate_bp: int
    base: Money
    vat: Money
    total: Money


class TicketDetail(TicketSummary):
    """`GET /v1/me/tickets/{id}`: a ticket with its lines and VAT summary."""

    lines: list[TicketLine]
    vat: list[VatRateSummary]


class ProblemDocument(_Answer):
    """An RFC 9457 problem document with the service's extension members."""

    type: str | None = None
    title: str | None = None
    status: int | None = None
    code: str
    detail: str | None = None
    instance: str | None = None
    retry_after: int | None = None
    attempts_left: int | None = None
    errors: list[ProblemFieldError] | None = None


class ProblemFieldError(_Answer):
    """One entry of `errors` on `validation-failed`."""

    field: str = ""
    message: str = ""


ProblemDocument.model_rebuild()


# Orders, catalogue and notifications (docs/api.md, "Orders") --------------------------------

OrderState = Literal["created", "paid", "in_preparation", "ready", "collected", "cancelled"]
Unavailability = Literal["sold_out", "deadline_passed", "not_now"]
NotCancellable = Literal["preparation_started", "collected", "already_cancelled", "cutoff_passed"]


class ItemText(_Answer):
    """An item's name and description in one language."""

    name: str
    description: str


class CatalogueItem(_Answer):
    """An item of the site's catalogue. Unavailable ones are listed too, to show greyed out."""

    code: str
    name: str
    description: str
    kind: Literal["product", "service"]
    price: Money
    vat_rate_bp: int
    allergens: list[str]
    """EU allergen codes (`gluten`, `milk`...): the terminal translates them."""
    available: bool
    reason: Unavailability | None = None
    available_from: dt.time | None = None
    available_until: dt.time | None = None
    order_deadline: dt.time | None = None
    """Times of day in the site's time zone."""
    stock: int | None = None
    """Units left; None: unlimited."""
    translations: dict[str, ItemText] = {}
    """The name and description by language, where the site gave them."""

    def name_in(self, language: str) -> str:
        """The name in `language` when the site gave one, else in the site's."""
        own = self.translations.get(language)
        return own.name if own is not None else self.name


class Catalogue(_Answer):
    """`GET /v1/catalogue`."""

    currency: str
    time_zone: str
    items: list[CatalogueItem]


class OrderLine(_Answer):
    """A line of an order, at the price it was sold."""

    item_code: str
    name: str
    quantity: int
    unit_price: Money
    vat_rate_bp: int
    line_total: Money


class OrderSummary(_Answer):
    """An order in a list."""

    id: int
    pickup_number: int
    state: OrderState
    total: Money
    created_at: dt.datetime
    lines: list[OrderLine]
    cancellable: bool


class OrderReceipt(OrderSummary):
    """`POST /v1/me/orders`: the order placed and paid."""

    balance_after: Money
    ticket_id: int


class OrderEvent(_Answer):
    """A step of an order's history."""

    state: OrderState
    at: dt.datetime
    by: Literal["person", "kitchen", "service"]


class OrderDetail(OrderSummary):
    """`GET /v1/me/orders/{id}`."""

    ticket_id: int | None
    refund_ticket_id: int | None
    history: list[OrderEvent]


class OrderPage(_Answer):
    """`GET /v1/me/orders`: newest first; `next_cursor` is None on the last page."""

    items: list[OrderSummary]
    next_cursor: str | None


class CancelReceipt(_Answer):
    """`POST /v1/me/orders/{id}/cancel`: cancelled and refunded at once."""

    id: int
    state: OrderState
    refund: Money
    balance_after: Money
    refund_ticket_id: int


class Notification(_Answer):
    """A notification for the home screen (`order_ready`, `top_up_credited`,
    `visitor_arrived`...)."""

    id: int
    kind: str
    title: str
    body: str
    data: dict[str, str | int] = {}
    """The facts the words are made of (`pickup_number`, `visitor_name`...): the kiosk words
    the notification in its own language (`kiosk.notices`)."""
    created_at: dt.datetime
    read: bool


class StatementPart(_Answer):
    amount: Money
    count: int


class Statement(_Answer):
    """`GET /v1/me/statements/{month}`: opening + movements = closing."""

    month: str
    opening_balance: Money
    purchases: StatementPart
    top_ups: StatementPart
    refunds: StatementPart
    adjustments: StatementPart
    closing_balance: Money
    vat: list[VatRateSummary]


class StatementSent(_Answer):
    destination: str


class Profile(_Answer):
    """`GET /v1/me/profile`: email and phone come masked."""

    name: str
    identifier: str
    email: str | None = None
    phone: str | None = None


class Channels(_Answer):
    """Where an event reaches the person besides the kiosk."""

    email: bool = False
    sms: bool = False


class Settings(_Answer):
    """`GET /v1/me/settings`."""

    language: Literal["fr", "en"] | None = None
    low_balance: Money | None = None
    low_balance_max: Money
    notify: dict[str, Channels]
    has_email: bool
    has_phone: bool


class HelpEntry(_Answer):
    """A question and its answer (the site's text)."""

    topic: str
    question: str
    answer: str


class Help(_Answer):
    """`GET /v1/help`: the site's questions and answers, and its support contact."""

    contact: str = ""
    entries: list[HelpEntry]


class BadgeBlocked(_Answer):
    """`POST /v1/me/badge/block`: the badge's old QR codes are refused from now on."""

    blocked_at: dt.datetime


class PinChanged(_Answer):
    """`POST /v1/me/pin`: the PIN is changed (other sessions ended)."""

    changed_at: dt.datetime


class AllRead(_Answer):
    """`POST /v1/me/notifications/read-all`."""

    marked: int
    unread_count: int


class NotificationList(_Answer):
    """`GET /v1/me/notifications`: unread first, then newest first."""

    unread_count: int
    items: list[Notification]


# Visits -------------------------------------------------------------------------------------

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
DeskAction = Literal["check_in", "check_out"]


class VisitorInput(BaseModel):
    """A visitor as the host declares them (or a walk-in gives themselves): a name, and an
    email and/or a phone for the invitation (the host must give one of them)."""

    model_config = ConfigDict(frozen=True)

    first_name: str
    last_name: str
    company: str = ""
    email: str | None = None
    phone: str | None = None


class VisitorInfo(_Answer):
    """A visitor of one of the person's visits, with what happened to them."""

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
    """Personal data deleted after the site's retention period (names are empty)."""


class VisitEvent(_Answer):
    """One step of a visit's history (`submitted`, `approved`, `invitation_sent`,
    `checked_in`, `checked_out`, `rejected`, `cancelled`, `edited`, `expired`)."""

    kind: str
    at: dt.datetime
    by_name: str | None
    by_device: str | None
    visitor_name: str | None
    detail: str


class VisitSummary(_Answer):
    """A visit in the person's list. Times of day are the site's local time."""

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
    """`GET /v1/me/visits/{id}` and the answer of every change to a visit."""

    host_name: str
    rejection_reason: str | None
    editable: bool
    cancellable: bool
    visitors: list[VisitorInfo]
    history: list[VisitEvent]


class VisitList(_Answer):
    """`GET /v1/me/visits`: upcoming first (soonest first), then past ones."""

    items: list[VisitSummary]


class ReceptionRow(_Answer):
    """One visitor of the day on the reception desk."""

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
    walk_in: bool
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    overdue: bool
    held: bool = False
    """The check-in waits for reception (a watchlist match)."""
    has_photo: bool = False
    """The kiosk took the visitor's still at check-in."""
    refused: bool = False
    """Reception refused them entry."""


class ReceptionDay(_Answer):
    """`GET /v1/reception/visits`: the day's visitors in three lists."""

    day: dt.date
    generated_at: dt.datetime
    expected: list[ReceptionRow]
    on_site: list[ReceptionRow]
    left: list[ReceptionRow]


class RollCallRow(_Answer):
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


class RollCall(_Answer):
    """`GET /v1/reception/roll-call`: everyone on site now; `generated_at` says how old a
    kept copy is."""

    site: SiteRef
    generated_at: dt.datetime
    people: list[RollCallRow]


class WatchlistEntry(_Answer):
    """A person reception looks at before they come in."""

    id: int
    full_name: str
    birth_date: dt.date | None = None
    reason: str
    added_by: str
    created_at: dt.datetime


class Watchlist(_Answer):
    """`GET /v1/reception/watchlist`: the site's entries, newest first."""

    entries: list[WatchlistEntry]


class HeldCheckIn(_Answer):
    """Why a visitor's check-in waits for reception."""

    visitor_id: int
    entry: WatchlistEntry | None = None
    held_at: dt.datetime | None = None
    released_at: dt.datetime | None = None
    refused_at: dt.datetime | None = None


class MusterPerson(_Answer):
    """A visitor on site when the evacuation started; `safe_at` once marked safe."""

    visitor_id: int
    first_name: str
    last_name: str
    company: str
    host_name: str
    checked_in_at: dt.datetime
    safe_at: dt.datetime | None = None
    marked_by: str | None = None


class Evacuation(_Answer):
    """An evacuation and its muster: the missing first."""

    id: int
    site: SiteRef
    started_at: dt.datetime
    started_by: str
    closed_at: dt.datetime | None = None
    closed_by: str | None = None
    safe: int
    missing: int
    people: list[MusterPerson]


class DeviceRollCalls(_Answer):
    """`GET /v1/device/roll-call`: the roll call of each site the device serves."""

    roll_calls: list[RollCall]


class HostMatches(_Answer):
    """Names of the site's people matching what a visitor typed; `more` when others match."""

    names: list[str]
    more: bool = False


class AccountMatch(_Answer):
    """A person reception may credit cash to; a `blocked` account cannot be."""

    identifier: str
    name: str
    status: Literal["pending", "active", "blocked"]


class AccountMatches(_Answer):
    """`GET /v1/reception/accounts`: eight at most; `more` when others match too."""

    accounts: list[AccountMatch]
    more: bool = False


class TopUpReceipt(_Answer):
    """`POST /v1/cash-top-ups`: the credited person, the amount and their balance after."""

    ticket_id: int
    name: str
    amount: Money
    balance_after: Money


class CashClerkTotal(_Answer):
    identifier: str
    name: str
    count: int
    total: Money


class CashDay(_Answer):
    """`GET /v1/reception/cash`: the site's cash top-ups today, per clerk, for the till count."""

    day: dt.date
    clerks: list[CashClerkTotal]
    count: int
    total: Money


class WalkInCreated(_Answer):
    """A walk-in's visit, requested for today. The visitor kiosk may keep
    `invitation_token` while the visitor waits, to check them in once approved."""

    visit_id: int
    visitor_id: int
    state: VisitState
    host_name: str
    invitation_token: str = Field(repr=False)
    wait_seconds: int = 180
    """How long to let the visitor wait for the answer (the site's choice)."""


class DeskVisit(_Answer):
    """`POST /v1/visitor-desk/lookup`: what the visitor sees before confirming."""

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
    action: DeskAction
    rules: str
    rules_language: str
    photo: Literal["off", "optional", "required"] = "off"
    """Whether the kiosk takes the visitor's still at check-in."""


class VisitorBadge(_Answer):
    """A visitor badge to print or show; its QR is `checkout_token`."""

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


class CheckedOut(_Answer):
    visitor_id: int
    first_name: str
    last_name: str
    checked_out_at: dt.datetime
