"""Request and answer bodies of the money routes: till purchases, cash top-ups, tickets."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from kiosk_server.fields import RequiredText, StrictInt
from kiosk_server.schemas import Identifier, Money, SiteRef

TicketKind = Literal["purchase", "top_up", "refund", "adjustment"]

MAX_AMOUNT_CENTS = 10_000_000
"""100,000.00 in any currency: far above any canteen amount, far below any integer limit."""


class TillLine(BaseModel):
    """One line of a till purchase. The unit price includes VAT."""

    item: RequiredText = Field(max_length=200)
    quantity: StrictInt = Field(ge=1, le=999)
    unit_price_cents: StrictInt = Field(ge=0, le=MAX_AMOUNT_CENTS)
    vat_rate_bp: StrictInt = Field(
        ge=0, le=10_000, description="VAT rate in basis points: 5.5 % = 550."
    )


class TillPurchaseRequest(BaseModel):
    """A purchase at a till, paid with the badge token the till just read."""

    badge_token: str = Field(min_length=1, max_length=256)
    lines: list[TillLine] = Field(min_length=1, max_length=100)
    total_cents: StrictInt = Field(
        ge=1, le=MAX_AMOUNT_CENTS, description="Must equal the sum of quantity × unit price."
    )


class PurchaseReceipt(BaseModel):
    """A recorded purchase: who paid, what, and what is left."""

    ticket_id: int
    name: str
    total: Money
    balance_after: Money


class CashTopUpRequest(BaseModel):
    """Cash handed to reception, credited to a person's account."""

    identifier: RequiredText = Identifier
    amount_cents: StrictInt = Field(ge=1, le=MAX_AMOUNT_CENTS)


class TopUpReceipt(BaseModel):
    """A recorded top-up."""

    ticket_id: int
    name: str
    amount: Money
    balance_after: Money


AccountStatus = Literal["pending", "active", "blocked"]


class AccountMatch(BaseModel):
    """A person of the desk's site, as reception finds them to credit cash: who they are, and
    whether their account can take it (`blocked` cannot)."""

    identifier: str
    name: str
    status: AccountStatus


class AccountMatches(BaseModel):
    """The site's people matching what reception typed, eight at most; `more` when others
    match too (reception types on)."""

    accounts: list[AccountMatch]
    more: bool


class CashClerkTotal(BaseModel):
    """The cash one reception person recorded today."""

    identifier: str
    name: str
    count: int
    total: Money


class CashDay(BaseModel):
    """The cash top-ups recorded at the site today (the site's day), per reception person, for
    counting the till."""

    day: dt.date
    clerks: list[CashClerkTotal]
    count: int
    total: Money


class TicketSummary(BaseModel):
    """A ticket in the history list."""

    id: int
    kind: TicketKind
    created_at: dt.datetime
    place: str
    total: Money
    """The ticket's total, as printed on it."""
    amount: Money
    """Its signed effect on the balance (a purchase is negative)."""
    balance_after: Money
    order_id: int | None = None
    """The order it paid or refunded (`GET /v1/me/orders/{id}`), if an order made it."""
    top_up_id: int | None = None
    """The online top-up it credited (`GET /v1/me/top-ups/{id}`), if one made it. A till's
    purchase or a cash top-up has neither: the till or desk was answered this ticket's id."""


class TicketPage(BaseModel):
    """Tickets newest first; pass `next_cursor` back as `cursor` for the next page (null: the
    end)."""

    items: list[TicketSummary]
    next_cursor: str | None


class TicketLineOut(BaseModel):
    """One line of a ticket (prices include VAT)."""

    item: str
    quantity: int
    unit_price: Money
    vat_rate_bp: int
    line_total: Money


class VatRateSummary(BaseModel):
    """The ticket's lines at one VAT rate: base (excluding VAT) + VAT = total."""

    rate_bp: int
    base: Money
    vat: Money
    total: Money


class TicketDetail(TicketSummary):
    """A ticket with its lines and VAT summary."""

    lines: list[TicketLineOut]
    vat: list[VatRateSummary]


class StatementPart(BaseModel):
    """What moved in the month for one kind: the amount and how many movements."""

    amount: Money
    count: int


class Statement(BaseModel):
    """A month of the person's account, in the site's calendar: `opening_balance` +
    `top_ups` − `purchases` + `refunds` + `adjustments` (signed) = `closing_balance`. `vat`:
    per rate, the VAT of what was bought, net of refunds (prices include VAT)."""

    month: str
    """`YYYY-MM`."""
    site: SiteRef
    name: str
    identifier: str
    opening_balance: Money
    purchases: StatementPart
    """Spent (a positive amount)."""
    top_ups: StatementPart
    refunds: StatementPart
    adjustments: StatementPart
    """Signed: staff corrections either way."""
    closing_balance: Money
    vat: list[VatRateSummary]
