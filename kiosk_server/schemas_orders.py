"""Request and answer bodies of the catalogue, order, kitchen and notification routes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kiosk_server.fields import LocalTime, RequiredText, StrictInt
from kiosk_server.schemas import Money

OrderState = Literal["created", "paid", "in_preparation", "ready", "collected", "cancelled"]
ItemKind = Literal["product", "service"]
Unavailability = Literal["sold_out", "deadline_passed", "not_now"]
MAX_QUANTITY = 20
MAX_LINES = 30


class ItemText(BaseModel):
    """An item's name and description in one language."""

    name: str
    description: str


class CatalogueItemOut(BaseModel):
    """An item of the site's catalogue as the terminal shows it. Unavailable items are listed
    too (greyed), with the reason."""

    code: str
    name: str
    description: str
    kind: ItemKind
    price: Money
    vat_rate_bp: int
    allergens: list[str]
    """EU allergen codes (`gluten`, `crustaceans`, `eggs`, `fish`, `peanuts`, `soybeans`, `milk`,
    `nuts`, `celery`, `mustard`, `sesame`, `sulphites`, `lupin`, `molluscs`)."""
    available: bool
    reason: Unavailability | None = None
    """Why it cannot be ordered now, when `available` is false."""
    available_from: LocalTime | None = None
    available_until: LocalTime | None = None
    order_deadline: LocalTime | None = None
    """Times of day in the site's time zone."""
    stock: int | None = None
    """Units left; null: unlimited."""
    translations: dict[str, ItemText] = Field(default_factory=dict)
    """By two-letter language code: the name and description for a terminal in that language
    (`name` and `description` are in the site's); a language not listed uses those."""


class Catalogue(BaseModel):
    """The site's catalogue at the time of the request."""

    currency: str
    time_zone: str
    items: list[CatalogueItemOut]


class OrderLineIn(BaseModel):
    """One line of a basket: what and how many; the price comes from the service (a line
    that carries a price is refused)."""

    model_config = ConfigDict(extra="forbid")

    item_code: RequiredText = Field(max_length=32)
    quantity: StrictInt = Field(ge=1, le=MAX_QUANTITY)


class PlaceOrderRequest(BaseModel):
    """A basket to pay from the balance."""

    model_config = ConfigDict(extra="forbid")

    lines: list[OrderLineIn] = Field(min_length=1, max_length=MAX_LINES)


class OrderLineOut(BaseModel):
    """A line of an order, as sold."""

    item_code: str
    name: str
    quantity: int
    unit_price: Money
    vat_rate_bp: int
    line_total: Money


class OrderEventOut(BaseModel):
    """A step of an order's history."""

    state: OrderState
    at: dt.datetime
    by: Literal["person", "kitchen", "service"]


class OrderSummary(BaseModel):
    """An order in a list."""

    id: int
    pickup_number: int
    state: OrderState
    total: Money
    created_at: dt.datetime
    lines: list[OrderLineOut]
    cancellable: bool
    """Whether `POST .../cancel` would be accepted now."""


class OrderReceipt(OrderSummary):
    """The answer to placing an order."""

    balance_after: Money
    ticket_id: int


class OrderDetail(OrderSummary):
    """One order with its history and tickets."""

    ticket_id: int | None
    refund_ticket_id: int | None
    history: list[OrderEventOut]


class CancelReceipt(BaseModel):
    """The answer to cancelling an order: refunded at once."""

    id: int
    state: OrderState
    refund: Money
    balance_after: Money
    refund_ticket_id: int


class OrderPage(BaseModel):
    """A page of orders, newest first."""

    items: list[OrderSummary]
    next_cursor: str | None


class KitchenOrder(BaseModel):
    """An order on a kitchen screen."""

    id: int
    site_code: str
    pickup_number: int
    state: OrderState
    customer_name: str
    created_at: dt.datetime
    lines: list[OrderLineOut]


class KitchenOrders(BaseModel):
    """Today's orders of the kitchen's sites, oldest first."""

    items: list[KitchenOrder]


class TransitionRequest(BaseModel):
    """The state the kitchen moves an order to."""

    to: Literal["in_preparation", "ready", "collected"]


class NotificationOut(BaseModel):
    """A notification on the home screen."""

    id: int
    kind: str
    title: str
    body: str
    data: dict[str, str | int] = Field(default_factory=dict)
    """The facts the notification is made of, by kind, for a terminal to word it in its own
    language (`title` and `body` are in the site's): `order_ready`: `pickup_number`;
    `visitor_arrived` and `visit_request`: `visitor_name`, `company`; `top_up_credited`:
    `amount_cents`, `currency`."""
    created_at: dt.datetime
    read: bool


class AllRead(BaseModel):
    """What marking every notification read did."""

    marked: int
    """How many were unread."""
    unread_count: int


class NotificationList(BaseModel):
    """The person's latest notifications, unread first, then newest first."""

    unread_count: int
    items: list[NotificationOut]
