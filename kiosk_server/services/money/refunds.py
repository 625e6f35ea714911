"""The refund of a cancelled order: the order leaves `paid` once, its stock goes back, and the
amount it took comes back to the balance as a `refund` entry and ticket (`refund_order`).
Whether the person may still cancel is `services.orders.cancel_order`'s to decide first."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.models import Account, CatalogueItem, Device, Order, OrderEvent, Site
from kiosk_server.services.money import ledger


async def refund_order(
    session: AsyncSession,
    *,
    site: Site,
    account: Account,
    device: Device,
    order: Order,
    place: str,
    now: dt.datetime,
) -> ledger.Posted | None:
    """Cancel the `paid` order and refund it in full, in the caller's transaction; `None` when
    it is no longer `paid` (the kitchen started it meanwhile), with nothing written.

    The guarded update on the state decides a cancel racing the kitchen's "in preparation":
    whichever commits first wins, never both. The refund's ticket repeats the order's lines."""
    moved = await session.scalar(
        update(Order)
        .where(Order.id == order.id, Order.state == "paid")
        .values(state="cancelled", cancelled_at=now)
        .returning(Order.id)
        .execution_options(synchronize_session=False)
    )
    if moved is None:
        return None
    # Items by id: the lock order of `place_order`.
    for line in sorted(order.lines, key=lambda line: line.item_id or 0):
        if line.item_id is not None:
            await session.execute(
                update(CatalogueItem)
                .where(CatalogueItem.id == line.item_id, CatalogueItem.stock.is_not(None))
                .values(stock=CatalogueItem.stock + line.quantity)
                .execution_options(synchronize_session=False)
            )
    posted = await ledger.post(
        session,
        ledger.movement(
            site,
            account_id=account.id,
            kind="refund",
            amount_cents=order.total_cents,
            reason=f"order {order.id} cancelled",
            place=place,
            lines=ledger.lines_of(order.lines),
            now=now,
            device_id=device.id,
        ),
    )
    await session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(refund_entry_id=posted.entry_id, refund_ticket_id=posted.ticket_id)
        .execution_options(synchronize_session=False)
    )
    session.add(
        OrderEvent(
            order_id=order.id, state="cancelled", at=now, device_id=device.id, account_id=account.id
        )
    )
    await session.flush()
    return posted
