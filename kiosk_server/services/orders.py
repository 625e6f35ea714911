"""Orders: a basket paid from the balance, then moved through the kitchen's states.

`place_order` does everything in the caller's transaction (the route wraps it in
`idempotency.once`, which commits it together with the stored answer): it checks the items
are available now, takes the stock with guarded updates (`stock >= quantity`, so concurrent
orders can never sell more than there is), takes the next pickup number of the day, debits the
balance and stores the purchase ticket through `money.ledger.post`, and stores the order `paid`.
A refusal anywhere rolls all of it back. A cancel's refund is `money.refunds.refund_order`.

States move only through `kitchen.transition` and `cancel_order` (the person, while `paid`),
each a guarded update on the current state, so a cancel racing the kitchen's "in preparation"
is decided by whichever commits first, never both.

Lock order, to keep PostgreSQL deadlocks rare (`idempotency.once` retries the ones that happen):
catalogue items by id, then the day's pickup counter (its number is on the ticket), then the
account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Literal, cast
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from kiosk_server.cursors import decode_cursor, encode_cursor
from kiosk_server.db import as_utc
from kiosk_server.i18n import texts
from kiosk_server.models import (
    CatalogueItem,
    Device,
    Order,
    OrderEvent,
    OrderLine,
    PickupCounter,
    Site,
)
from kiosk_server.problems import FieldError, ProblemError
from kiosk_server.schemas_orders import (
    MAX_QUANTITY,
    CancelReceipt,
    OrderDetail,
    OrderEventOut,
    OrderLineIn,
    OrderLineOut,
    OrderPage,
    OrderReceipt,
    OrderState,
    OrderSummary,
)
from kiosk_server.services import notifications
from kiosk_server.services.auth import SignedInPerson, site_settings
from kiosk_server.services.catalogue import local_now, unavailability
from kiosk_server.services.money import ledger, refunds
from kiosk_server.services.money.amounts import money

DEFAULT_PAGE = 20
MAX_PAGE = 100

ACTIVE_STATES = ("created", "paid", "in_preparation", "ready")
PAST_STATES = ("collected", "cancelled")
ListFilter = Literal["active", "past"]
NotCancellable = Literal["preparation_started", "collected", "already_cancelled", "cutoff_passed"]


def _line_problem(code: str, detail: str, index: int, item_code: str) -> ProblemError:
    # `errors` names the offending line, so the terminal can point at it in the basket.
    return ProblemError(
        code, detail, errors=[FieldError(field=f"lines.{index}.item_code", message=item_code)]
    )


# --- placing an order ------------------------------------------------------------------------


def _merge_lines(lines: Sequence[OrderLineIn]) -> list[tuple[int, str, int]]:
    """`(index of first line, CODE, quantity)` per item, in the basket's order."""
    merged: dict[str, tuple[int, int]] = {}
    for index, line in enumerate(lines):
        code = line.item_code.strip().upper()
        first, quantity = merged.get(code, (index, 0))
        merged[code] = (first, quantity + line.quantity)
    result = [(index, code, quantity) for code, (index, quantity) in merged.items()]
    for index, _code, quantity in result:
        if quantity > MAX_QUANTITY:
            raise ProblemError(
                "item-quantity-limit",
                f"At most {MAX_QUANTITY} of one item per order.",
                errors=[
                    FieldError(field=f"lines.{index}.quantity", message=f"at most {MAX_QUANTITY}")
                ],
            )
    return result


async def _take_stock(session: AsyncSession, item: CatalogueItem, quantity: int) -> bool:
    """Take `quantity` units if that many are left, in one guarded statement."""
    left = await session.scalar(
        update(CatalogueItem)
        .where(CatalogueItem.id == item.id, CatalogueItem.stock >= quantity)
        .values(stock=CatalogueItem.stock - quantity)
        .returning(CatalogueItem.stock)
        .execution_options(synchronize_session=False)
    )
    return left is not None


async def _next_pickup_number(session: AsyncSession, site: Site, day: dt.date) -> int:
    """The next pickup number of the site's day: one atomic upsert, on both databases."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = PickupCounter.__table__
    statement = (
        insert(PickupCounter)
        .values(site_id=site.id, day=day, last_number=1)
        .on_conflict_do_update(
            index_elements=["site_id", "day"],
            set_={"last_number": table.c.last_number + 1},
        )
        .returning(PickupCounter.last_number)
    )
    number = await session.scalar(statement)
    assert number is not None  # noqa: S101 - an upsert always returns its row
    return int(number)


def _order_label(site: Site, pickup_number: int) -> str:
    return texts(site.locale).gettext("Order no. %(number)d") % {"number": pickup_number}


async def place_order(
    session: AsyncSession,
    *,
    person: SignedInPerson,
    device: Device,
    lines: Sequence[OrderLineIn],
    now: dt.datetime,
) -> OrderReceipt:
    """Pay a basket from the person's balance and store the order `paid` with a pickup number
    and its purchase ticket (see the module docstring). Prices come from the catalogue only."""
    site, account = person.site, person.account
    if account.status == "blocked":
        raise ProblemError("account-blocked", "This account is blocked. Ask the site's staff.")
    wanted = _merge_lines(lines)
    rows = await session.scalars(
        select(CatalogueItem).where(
            CatalogueItem.site_id == site.id,
            CatalogueItem.code.in_([code for _, code, _ in wanted]),
            CatalogueItem.active.is_(True),
        )
    )
    items = {item.code: item for item in rows.all()}
    local = local_now(site, now)
    for index, code, _quantity in wanted:
        item = items.get(code)
        if item is None:
            raise _line_problem("item-unknown", f"No item {code} in the catalogue.", index, code)
        reason = unavailability(item, local)
        if reason == "not_now":
            raise _line_problem(
                "item-unavailable", f"{item.name} is not sold at this time.", index, code
            )
        if reason == "deadline_passed":
            raise _line_problem(
                "item-deadline-passed",
                f"Orders for {item.name} closed at {item.order_deadline:%H:%M}.",
                index,
                code,
            )
    # Stock first (items by id, a stable lock order); a sold-out item refuses the whole order.
    by_item = sorted(
        ((items[code], index, quantity) for index, code, quantity in wanted),
        key=lambda entry: entry[0].id,
    )
    for item, index, quantity in by_item:
        if item.stock is not None and not await _take_stock(session, item, quantity):
            raise _line_problem("item-sold-out", f"Not enough {item.name} left.", index, item.code)
    order_lines = [
        OrderLine(
            position=position,
            item_id=items[code].id,
            code=code,
            name=items[code].name,
            quantity=quantity,
            unit_price_cents=items[code].price_cents,
            vat_rate_bp=items[code].vat_rate_bp,
            line_total_cents=quantity * items[code].price_cents,
        )
        for position, (_, code, quantity) in enumerate(wanted)
    ]
    total = sum(line.line_total_cents for line in order_lines)
    if total <= 0:
        raise ProblemError("order-empty", "There is nothing to pay in this basket.")
    pickup_number = await _next_pickup_number(session, site, local.date())
    posted = await ledger.post(
        session,
        ledger.movement(
            site,
            account_id=account.id,
            kind="purchase",
            amount_cents=-total,
            reason=f"order at {device.name}",
            place=f"{device.name} · {_order_label(site, pickup_number)}",
            lines=ledger.lines_of(order_lines),
            now=now,
            device_id=device.id,
        ),
    )
    await notifications.alert_low_balance(
        session,
        account=account,
        site=site,
        before_cents=posted.balance_after_cents + total,
        now=now,
    )
    order = Order(
        site_id=site.id,
        account_id=account.id,
        device_id=device.id,
        state="paid",
        day=local.date(),
        pickup_number=pickup_number,
        total_cents=total,
        currency=site.currency,
        created_at=now,
        paid_at=now,
        cancelled_at=None,
        payment_entry_id=posted.entry_id,
        refund_entry_id=None,
        ticket_id=posted.ticket_id,
        refund_ticket_id=None,
    )
    order.lines = order_lines
    order.events = [
        OrderEvent(state="created", at=now, device_id=device.id, account_id=account.id),
        OrderEvent(state="paid", at=now, device_id=device.id, account_id=account.id),
    ]
    session.add(order)
    await session.flush()
    deadlines = await _deadlines(session, [order])
    return OrderReceipt(
        **_summary(order, site, deadlines, now).model_dump(),
        balance_after=money(posted.balance_after_cents, site.currency),
        ticket_id=posted.ticket_id,
    )


# --- reading orders --------------------------------------------------------------------------


async def _deadlines(session: AsyncSession, orders: Iterable[Order]) -> dict[int, dt.time]:
    """The ordering deadline of every catalogue item in these orders that has one."""
    item_ids = {line.item_id for order in orders for line in order.lines if line.item_id}
    if not item_ids:
        return {}
    rows = await session.execute(
        select(CatalogueItem.id, CatalogueItem.order_deadline).where(
            CatalogueItem.id.in_(item_ids), CatalogueItem.order_deadline.is_not(None)
        )
    )
    return {int(item_id): deadline for item_id, deadline in rows.all() if deadline is not None}


def _cancel_refusal(
    order: Order, site: Site, deadlines: dict[int, dt.time], now: dt.datetime
) -> NotCancellable | None:
    """Why the order cannot be cancelled now, or None when it can."""
    if order.state == "cancelled":
        return "already_cancelled"
    if order.state == "collected":
        return "collected"
    if order.state != "paid":
        return "preparation_started"
    cutoff = site_settings(site).order_cancel_cutoff_minutes
    if cutoff is None:
        return None
    own = [deadlines[line.item_id] for line in order.lines if line.item_id in deadlines]
    if not own:
        return None
    zone = ZoneInfo(site.time_zone)
    closes = dt.datetime.combine(order.day, min(own), tzinfo=zone) - dt.timedelta(minutes=cutoff)
    return "cutoff_passed" if now >= closes else None


def lines_out(order: Order) -> list[OrderLineOut]:
    return [
        OrderLineOut(
            item_code=line.code,
            name=line.name,
            quantity=line.quantity,
            unit_price=money(line.unit_price_cents, order.currency),
            vat_rate_bp=line.vat_rate_bp,
            line_total=money(line.line_total_cents, order.currency),
        )
        for line in order.lines
    ]


def _summary(
    order: Order, site: Site, deadlines: dict[int, dt.time], now: dt.datetime
) -> OrderSummary:
    return OrderSummary(
        id=order.id,
        pickup_number=order.pickup_number,
        state=cast(OrderState, order.state),
        total=money(order.total_cents, order.currency),
        created_at=as_utc(order.created_at),
        lines=lines_out(order),
        cancellable=_cancel_refusal(order, site, deadlines, now) is None,
    )


async def list_orders(
    session: AsyncSession,
    *,
    person: SignedInPerson,
    state: ListFilter | None,
    cursor: str | None,
    limit: int,
    now: dt.datetime,
) -> OrderPage:
    """The person's orders, newest first; `active` (not yet collected or cancelled) or `past`."""
    limit = max(1, min(limit, MAX_PAGE))
    query = (
        select(Order)
        .where(Order.account_id == person.account.id)
        .options(selectinload(Order.lines))
    )
    if state == "active":
        query = query.where(Order.state.in_(ACTIVE_STATES))
    elif state == "past":
        query = query.where(Order.state.in_(PAST_STATES))
    if cursor:
        query = query.where(Order.id < decode_cursor(cursor))
    rows = list((await session.scalars(query.order_by(Order.id.desc()).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    deadlines = await _deadlines(session, rows)
    return OrderPage(
        items=[_summary(order, person.site, deadlines, now) for order in rows],
        next_cursor=encode_cursor(rows[-1].id) if more and rows else None,
    )


async def _own_order(session: AsyncSession, person: SignedInPerson, order_id: int) -> Order:
    order = await session.scalar(
        select(Order)
        .where(Order.id == order_id, Order.account_id == person.account.id)
        .options(selectinload(Order.lines), selectinload(Order.events))
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise ProblemError("order-unknown", "No such order among yours.")
    return order


def _event_out(event: OrderEvent) -> OrderEventOut:
    if event.account_id is not None:
        by: Literal["person", "kitchen", "service"] = "person"
    elif event.device_id is not None:
        by = "kitchen"
    else:
        by = "service"
    return OrderEventOut(state=cast(OrderState, event.state), at=as_utc(event.at), by=by)


async def order_detail(
    session: AsyncSession, *, person: SignedInPerson, order_id: int, now: dt.datetime
) -> OrderDetail:
    """One of the person's orders with its history; another person's is `order-unknown`."""
    order = await _own_order(session, person, order_id)
    deadlines = await _deadlines(session, [order])
    return OrderDetail(
        **_summary(order, person.site, deadlines, now).model_dump(),
        ticket_id=order.ticket_id,
        refund_ticket_id=order.refund_ticket_id,
        history=[_event_out(event) for event in order.events],
    )


# --- cancelling ------------------------------------------------------------------------------

_REFUSALS: dict[NotCancellable, str] = {
    "preparation_started": "The kitchen has started preparing this order.",
    "collected": "This order was already collected.",
    "already_cancelled": "This order is already cancelled.",
    "cutoff_passed": "Orders can no longer be cancelled for today.",
}


def _not_cancellable(reason: NotCancellable) -> ProblemError:
    # `errors` carries the stable reason, for the terminal to say it in the person's language.
    return ProblemError(
        "order-not-cancellable",
        _REFUSALS[reason],
        errors=[FieldError(field="reason", message=reason)],
    )


async def cancel_order(
    session: AsyncSession,
    *,
    person: SignedInPerson,
    device: Device,
    order_id: int,
    now: dt.datetime,
) -> CancelReceipt:
    """Cancel one of the person's paid orders: refunded at once (a `refund` ledger entry and
    ticket) and its stock put back."""
    site, account = person.site, person.account
    order = await _own_order(session, person, order_id)
    reason = _cancel_refusal(order, site, await _deadlines(session, [order]), now)
    if reason is not None:
        raise _not_cancellable(reason)
    label = _order_label(site, order.pickup_number)
    posted = await refunds.refund_order(
        session,
        site=site,
        account=account,
        device=device,
        order=order,
        place=f"{device.name} · {label}",
        now=now,
    )
    if posted is None:  # The kitchen started it meanwhile.
        raise _not_cancellable("preparation_started")
    return CancelReceipt(
        id=order.id,
        state="cancelled",
        refund=money(order.total_cents, order.currency),
        balance_after=money(posted.balance_after_cents, site.currency),
        refund_ticket_id=posted.ticket_id,
    )
