"""Kitchen screens: today's orders of their sites, and the state transitions they make."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from kiosk_server.deps import ClockDep, DbSession, ResourceId, require_role
from kiosk_server.models import Device
from kiosk_server.problems import problem_responses
from kiosk_server.routes import API
from kiosk_server.schemas_orders import KitchenOrder, KitchenOrders, TransitionRequest
from kiosk_server.services import kitchen

router = APIRouter(prefix=f"{API}/kitchen", tags=["kitchen"])

Kitchen = Annotated[Device, Depends(require_role("kitchen"))]

_KITCHEN = (
    "device-key-missing",
    "device-key-invalid",
    "device-role-forbidden",
    "validation-failed",
)


@router.get("/orders", responses=problem_responses(*_KITCHEN))
async def list_orders(
    session: DbSession,
    device: Kitchen,
    clock: ClockDep,
    state: Annotated[list[kitchen.KitchenState] | None, Query()] = None,
) -> KitchenOrders:
    """Today's orders (in each site's time zone) of the kitchen's sites, oldest first; `state`
    (repeatable) filters, by default paid, in preparation and ready."""
    states = state or ["paid", "in_preparation", "ready"]
    return await kitchen.kitchen_orders(session, device=device, states=states, now=clock.now())


@router.post(
    "/orders/{order_id}/transitions",
    responses=problem_responses(*_KITCHEN, "order-unknown", "order-transition-forbidden"),
)
async def move_order(
    body: TransitionRequest,
    session: DbSession,
    device: Kitchen,
    clock: ClockDep,
    order_id: ResourceId,
) -> KitchenOrder:
    """Move an order one step: paid → in_preparation → ready → collected. Reaching `ready`
    notifies the person (home screen and email or SMS)."""
    return await kitchen.transition(
        session, device=device, order_id=order_id, to=body.to, now=clock.now()
    )
