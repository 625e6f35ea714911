"""Kitchen screens: the orders of the day for the sites a kitchen device serves, and the
kitchen's moves through the states (paid → in preparation → ready → collected), each a guarded
update; "ready" notifies the person. Placing, reading and cancelling orders are
`services.orders`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal, cast

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from kiosk_server.db import as_utc
from kiosk_server.i18n import texts
from kiosk_server.models import (
    Account,
    Device,
    DeviceSite,
    Order,
    OrderEvent,
    Site,
)
from kiosk_server.problems import ProblemError
from kiosk_server.schemas_orders import (
    KitchenOrder,
    KitchenOrders,
    OrderState,
)
from kiosk_server.services import notifications
from kiosk_server.services.catalogue import local_now
from kiosk_server.services.orders import lines_out

TRANSITIONS: dict[str, str] = {
    "paid": "in_preparation",
    "in_preparation": "ready",
    "ready": "collected",
}
"""The kitchen's moves: each state to the one it may move to."""
KitchenState = Literal["paid", "in_preparation", "ready"]
"""The states a kitchen screen lists."""


async def _device_sites(session: AsyncSession, device: Device) -> list[Site]:
    rows = await session.scalars(
        select(Site)
        .join(DeviceSite, DeviceSite.site_id == Site.id)
        .where(DeviceSite.device_id == device.id)
    )
    return list(rows.all())


def _kitchen_order(order: Order, site: Site, customer: str) -> KitchenOrder:
    return KitchenOrder(
        id=order.id,
        site_code=site.code,
        pickup_number=order.pickup_number,
        state=cast(OrderState, order.state),
        customer_name=customer,
        created_at=as_utc(order.created_at),
        lines=lines_out(order),
    )


async def kitchen_orders(
    session: AsyncSession,
    *,
    device: Device,
    states: Sequence[KitchenState],
    now: dt.datetime,
) -> KitchenOrders:
    """Today's orders (each site's own day) of the kitchen's sites in these states, oldest
    first."""
    result: list[KitchenOrder] = []
    for site in await _device_sites(session, device):
        rows = await session.execute(
            select(Order, Account.name)
            .join(Account, Account.id == Order.account_id)
            .where(
                Order.site_id == site.id,
                Order.day == local_now(site, now).date(),
                Order.state.in_(list(states)),
            )
            .options(selectinload(Order.lines))
            .order_by(Order.id)
        )
        result.extend(_kitchen_order(order, site, name) for order, name in rows.all())
    result.sort(key=lambda order: (order.created_at, order.id))
    return KitchenOrders(items=result)


def ready_message(site: Site, pickup_number: int) -> tuple[str, str]:
    """Title and body of the "order ready" notification, in the site's language."""
    tr = texts(site.locale)
    return (
        tr.gettext("Your order no. %(number)d is ready") % {"number": pickup_number},
        tr.gettext("You can collect it now (%(site)s). Enjoy your meal!") % {"site": site.name},
    )


async def transition(
    session: AsyncSession,
    *,
    device: Device,
    order_id: int,
    to: str,
    now: dt.datetime,
) -> KitchenOrder:
    """Move an order of the kitchen's sites one step (paid → in_preparation → ready →
    collected); anything else is `order-transition-forbidden`. Reaching `ready` tells the
    person, on their home screen and through the outbox."""
    sites = {site.id: site for site in await _device_sites(session, device)}
    order = await session.scalar(
        select(Order)
        .where(Order.id == order_id, Order.site_id.in_(list(sites)))
        .options(selectinload(Order.lines))
    )
    if order is None:
        raise ProblemError("order-unknown", "No such order on this kitchen's sites.")
    allowed_from = [state for state, target in TRANSITIONS.items() if target == to]
    moved = None
    if allowed_from:
        moved = await session.scalar(
            update(Order)
            .where(Order.id == order.id, Order.state == allowed_from[0])
            .values(state=to)
            .returning(Order.id)
            .execution_options(synchronize_session=False)
        )
    if moved is None:
        current = await session.scalar(select(Order.state).where(Order.id == order.id))
        raise ProblemError(
            "order-transition-forbidden",
            f"An order cannot move from {current} to {to}.",
        )
    set_committed_value(order, "state", to)
    session.add(OrderEvent(order_id=order.id, state=to, at=now, device_id=device.id))
    account = await session.get(Account, order.account_id)
    assert account is not None  # noqa: S101 - the foreign key holds it
    site = sites[order.site_id]
    if to == "ready":
        title, body = ready_message(site, order.pickup_number)
        await notifications.notify(
            session,
            account=account,
            kind="order_ready",
            data={"pickup_number": order.pickup_number},
            title=title,
            body=body,
            now=now,
            email=True,
        )
    await session.flush()
    return _kitchen_order(order, site, account.name)
