"""The signed-in person's orders: placing (paid from the balance), listing, cancelling."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from kiosk_server.cursors import CURSOR_PATTERN
from kiosk_server.deps import ClockDep, CurrentPerson, DbSession, ResourceId, Terminal
from kiosk_server.problems import problem_responses
from kiosk_server.routes import API
from kiosk_server.routes.once import Once
from kiosk_server.schemas_orders import (
    CancelReceipt,
    OrderDetail,
    OrderPage,
    OrderReceipt,
    PlaceOrderRequest,
)
from kiosk_server.services import idempotency, orders

router = APIRouter(prefix=f"{API}/me/orders", tags=["orders"])

_PERSON = (
    "device-key-missing",
    "device-key-invalid",
    "device-role-forbidden",
    "session-missing",
    "session-invalid",
    "validation-failed",
)
_IDEMPOTENCY = (
    "idempotency-key-missing",
    "idempotency-key-invalid",
    "idempotency-key-reused",
    "idempotency-in-progress",
)


class _NoBody(BaseModel):
    """A cancel has no body: its idempotency key is bound to the method and path alone."""


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderReceipt,
    responses=problem_responses(
        *_PERSON,
        *_IDEMPOTENCY,
        "account-blocked",
        "order-empty",
        "item-quantity-limit",
        "item-unknown",
        "item-unavailable",
        "item-deadline-passed",
        "item-sold-out",
        "insufficient-balance",
    ),
)
async def place_order(
    body: PlaceOrderRequest,
    session: DbSession,
    device: Terminal,
    person: CurrentPerson,
    clock: ClockDep,
    once: Once,
) -> OrderReceipt:
    """Pay a basket from the balance: prices come from the catalogue, stock is taken, the order
    is stored `paid` with a pickup number and a purchase ticket, once per `Idempotency-Key`."""
    now = clock.now()
    return await once.run(
        scope=idempotency.person_scope(device.id, person.account.id),
        body=body,
        model=OrderReceipt,
        work=lambda: orders.place_order(
            session, person=person, device=device, lines=body.lines, now=now
        ),
    )


@router.get("", responses=problem_responses(*_PERSON, "cursor-invalid"))
async def list_orders(
    session: DbSession,
    person: CurrentPerson,
    clock: ClockDep,
    state: orders.ListFilter | None = None,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=orders.MAX_PAGE)] = orders.DEFAULT_PAGE,
) -> OrderPage:
    """The person's orders, newest first: `state=active` (paid, in preparation, ready),
    `state=past` (collected, cancelled), or all."""
    return await orders.list_orders(
        session, person=person, state=state, cursor=cursor, limit=limit, now=clock.now()
    )


@router.get("/{order_id}", responses=problem_responses(*_PERSON, "order-unknown"))
async def get_order(
    session: DbSession, person: CurrentPerson, clock: ClockDep, order_id: ResourceId
) -> OrderDetail:
    """One of the person's orders with its lines and history."""
    return await orders.order_detail(session, person=person, order_id=order_id, now=clock.now())


@router.post(
    "/{order_id}/cancel",
    status_code=status.HTTP_200_OK,
    response_model=CancelReceipt,
    responses=problem_responses(*_PERSON, *_IDEMPOTENCY, "order-unknown", "order-not-cancellable"),
)
async def cancel_order(
    session: DbSession,
    device: Terminal,
    person: CurrentPerson,
    clock: ClockDep,
    order_id: ResourceId,
    once: Once,
) -> CancelReceipt:
    """Cancel a paid order before preparation starts: refunded at once (a `refund` ticket),
    its stock put back. Once the kitchen started, `order-not-cancellable` says why."""
    now = clock.now()
    return await once.run(
        scope=idempotency.person_scope(device.id, person.account.id),
        body=_NoBody(),
        model=CancelReceipt,
        work=lambda: orders.cancel_order(
            session, person=person, device=device, order_id=order_id, now=now
        ),
    )
