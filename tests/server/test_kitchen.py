"""Kitchen screens over HTTP: today's orders of their sites, the allowed transitions, and the
person told when their order is ready."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from kiosk_server.clock import ManualClock
from kiosk_server.models import Site
from tests.conftest import device_client
from tests.factories import Factory
from tests.server.conftest import assert_problem
from tests.server.orders_support import (
    LONG_SESSIONS,
    at_paris,
    customer,
    kitchen_client,
    load,
    move,
    place,
)


@pytest.fixture
async def site(factory: Factory) -> Site:
    return await factory.site("CANTINE", settings=LONG_SESSIONS)


@pytest.fixture(autouse=True)
async def catalogue(factory: Factory, site: Site, clock: ManualClock) -> None:
    await load(factory, site)
    at_paris(clock, 10, 0)


async def test_an_order_moves_through_the_kitchen_and_the_person_sees_each_step(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, service_app: FastAPI
) -> None:
    _, headers = await customer(kiosk, factory, site)
    order = (await place(kiosk, headers, ("PLAT", 2))).json()
    async with await kitchen_client(service_app, factory, [site]) as kitchen:
        listed = (await kitchen.get("/v1/kitchen/orders")).json()["items"]
        assert [(o["id"], o["pickup_number"], o["state"], o["customer_name"]) for o in listed] == [
            (order["id"], 1, "paid", "Jeanne Martin")
        ]
        assert listed[0]["lines"][0]["quantity"] == 2
        for state in ("in_preparation", "ready", "collected"):
            moved = await move(kitchen, order["id"], state)
            assert moved.status_code == 200, moved.text
            assert moved.json()["state"] == state
            mine = (await kiosk.get(f"/v1/me/orders/{order['id']}", headers=headers)).json()
            assert mine["state"] == state
        assert (await kitchen.get("/v1/kitchen/orders")).json()["items"] == []
        collected = await kitchen.get("/v1/kitchen/orders", params={"state": "ready"})
        assert collected.json()["items"] == []
    history = (await kiosk.get(f"/v1/me/orders/{order['id']}", headers=headers)).json()["history"]
    assert [(step["state"], step["by"]) for step in history] == [
        ("created", "person"),
        ("paid", "person"),
        ("in_preparation", "kitchen"),
        ("ready", "kitchen"),
        ("collected", "kitchen"),
    ]
    past = (await kiosk.get("/v1/me/orders?state=past", headers=headers)).json()["items"]
    assert [o["id"] for o in past] == [order["id"]]


async def test_transitions_that_skip_or_go_back_are_refused(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, service_app: FastAPI
) -> None:
    _, headers = await customer(kiosk, factory, site)
    order = (await place(kiosk, headers, ("PLAT", 1))).json()
    cancelled = (await place(kiosk, headers, ("CAFE", 1))).json()
    assert (
        await kiosk.post(
            f"/v1/me/orders/{cancelled['id']}/cancel",
            headers={**headers, "Idempotency-Key": "cancel-1"},
        )
    ).status_code == 200
    async with await kitchen_client(service_app, factory, [site]) as kitchen:
        assert_problem(await move(kitchen, order["id"], "ready"), 409, "order-transition-forbidden")
        assert_problem(
            await move(kitchen, order["id"], "collected"), 409, "order-transition-forbidden"
        )
        assert (await move(kitchen, order["id"], "in_preparation")).status_code == 200
        assert_problem(
            await move(kitchen, order["id"], "in_preparation"), 409, "order-transition-forbidden"
        )
        assert_problem(
            await move(kitchen, cancelled["id"], "in_preparation"),
            409,
            "order-transition-forbidden",
        )
        assert_problem(await move(kitchen, order["id"], "paid"), 422, "validation-failed")
        assert_problem(await move(kitchen, order["id"], "cancelled"), 422, "validation-failed")
        assert_problem(await move(kitchen, 999999, "ready"), 404, "order-unknown")
    detail = (await kiosk.get(f"/v1/me/orders/{order['id']}", headers=headers)).json()
    assert detail["state"] == "in_preparation"


async def test_ready_tells_the_person_on_the_home_screen_and_by_email(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, service_app: FastAPI
) -> None:
    _, headers = await customer(kiosk, factory, site)
    await place(kiosk, headers, ("CAFE", 1))
    order = (await place(kiosk, headers, ("PLAT", 1))).json()
    assert order["pickup_number"] == 2
    async with await kitchen_client(service_app, factory, [site]) as kitchen:
        await move(kitchen, order["id"], "in_preparation")
        assert (await kiosk.get("/v1/me/notifications", headers=headers)).json()["items"] == []
        assert await factory.outbox("jeanne@example.com") == []
        assert (await move(kitchen, order["id"], "ready")).status_code == 200
    notes = (await kiosk.get("/v1/me/notifications", headers=headers)).json()
    assert notes["unread_count"] == 1
    assert [(n["kind"], n["title"], n["data"], n["read"]) for n in notes["items"]] == [
        ("order_ready", "Votre commande n°2 est prête", {"pickup_number": 2}, False)
    ]
    [mail] = await factory.outbox("jeanne@example.com")
    assert mail.channel == "email"
    assert mail.subject == "Votre commande n°2 est prête"
    assert "Cantine Lumière" in mail.body


async def test_a_person_with_only_a_phone_gets_an_sms(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, service_app: FastAPI
) -> None:
    _, headers = await customer(kiosk, factory, site, email=None, phone="+33612345678")
    order = (await place(kiosk, headers, ("CAFE", 1))).json()
    async with await kitchen_client(service_app, factory, [site]) as kitchen:
        await move(kitchen, order["id"], "in_preparation")
        await move(kitchen, order["id"], "ready")
    [sms] = await factory.outbox("+33612345678")
    assert sms.channel == "sms"
    assert "n°1 est prête" in sms.body


async def test_only_kitchen_devices_of_the_orders_site_move_orders(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, service_app: FastAPI, terminal: object
) -> None:
    _, headers = await customer(kiosk, factory, site)
    order = (await place(kiosk, headers, ("CAFE", 1))).json()
    assert_problem(await kiosk.get("/v1/kitchen/orders"), 403, "device-role-forbidden")
    assert_problem(await move(kiosk, order["id"], "in_preparation"), 403, "device-role-forbidden")
    till = await factory.device([site], role="till", name="Caisse")
    async with device_client(service_app, till.key) as till_client:
        assert_problem(
            await move(till_client, order["id"], "in_preparation"), 403, "device-role-forbidden"
        )
    elsewhere = await factory.site("AILLEURS")
    async with await kitchen_client(service_app, factory, [elsewhere], "Autre") as other:
        assert (await other.get("/v1/kitchen/orders")).json()["items"] == []
        assert_problem(await move(other, order["id"], "in_preparation"), 404, "order-unknown")
    detail = (await kiosk.get(f"/v1/me/orders/{order['id']}", headers=headers)).json()
    assert detail["state"] == "paid"


async def test_the_kitchen_sees_only_todays_orders_in_the_site_time_zone(
    kiosk: httpx.AsyncClient,
    factory: Factory,
    site: Site,
    service_app: FastAPI,
    clock: ManualClock,
) -> None:
    _, headers = await customer(kiosk, factory, site)
    at_paris(clock, 23, 30)
    yesterday = (await place(kiosk, headers, ("CAFE", 1))).json()
    at_paris(clock, 0, 30, day=3)  # 23:30 UTC on the 2nd, but already the 3rd in Paris.
    today = (await place(kiosk, headers, ("CAFE", 1))).json()
    async with await kitchen_client(service_app, factory, [site]) as kitchen:
        listed = (await kitchen.get("/v1/kitchen/orders", params={"state": "paid"})).json()
        assert [o["id"] for o in listed["items"]] == [today["id"]]
        # An order of an earlier day can still be moved (collected late, for instance).
        assert (await move(kitchen, yesterday["id"], "in_preparation")).status_code == 200
