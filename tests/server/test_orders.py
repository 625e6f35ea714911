"""Orders over HTTP: placing (paid from the balance, once per key), listing, cancelling with
an immediate refund, and what is refused."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from kiosk_server.clock import ManualClock
from kiosk_server.models import Account, CatalogueItem, LedgerEntry, Order, OrderLine, Site
from kiosk_server.services.money import ledger
from tests.conftest import device_client
from tests.factories import EnrolledDevice, Factory
from tests.server.conftest import assert_problem
from tests.server.money_support import new_key
from tests.server.orders_support import (
    LONG_SESSIONS,
    at_paris,
    balance,
    cancel,
    customer,
    kitchen_client,
    load,
    move,
    place,
    stock,
)


@pytest.fixture
async def site(factory: Factory) -> Site:
    return await factory.site("CANTINE", settings=LONG_SESSIONS)


@pytest.fixture(autouse=True)
async def catalogue(factory: Factory, site: Site, clock: ManualClock) -> None:
    await load(factory, site)
    at_paris(clock, 10, 0)


async def count_orders(factory: Factory) -> int:
    async with factory.session_factory() as session:
        return int(await session.scalar(select(func.count(Order.id))) or 0)


async def test_an_order_is_paid_from_the_balance_with_prices_from_the_catalogue(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    account, headers = await customer(kiosk, factory, site, balance_cents=5000)
    answer = await place(kiosk, headers, ("PLAT", 1), ("cafe", 2), ("PANIER", 1))
    assert answer.status_code == 201, answer.text
    order = answer.json()
    assert order["state"] == "paid"
    assert order["pickup_number"] == 1
    assert order["total"] == {"amount_cents": 850 + 240 + 1150, "currency": "EUR"}
    assert order["balance_after"]["amount_cents"] == 5000 - 2240
    assert [(line["item_code"], line["quantity"]) for line in order["lines"]] == [
        ("PLAT", 1),
        ("CAFE", 2),
        ("PANIER", 1),
    ]
    assert order["lines"][1]["unit_price"]["amount_cents"] == 120
    assert order["cancellable"] is True
    assert await balance(kiosk, headers) == 2760
    assert await stock(kiosk, headers, "PANIER") == 2
    ticket = await kiosk.get(f"/v1/me/tickets/{order['ticket_id']}", headers=headers)
    assert ticket.status_code == 200, ticket.text
    assert ticket.json()["kind"] == "purchase"
    assert ticket.json()["total"]["amount_cents"] == 2240
    assert [line["item"] for line in ticket.json()["lines"]] == [
        "Plat du jour",
        "Café",
        "Panier repas",
    ]
    async with factory.session_factory() as session:
        assert await ledger.sum_of_entries(session, account.id) == 2760
    second = await place(kiosk, headers, ("CAFE", 1))
    assert second.json()["pickup_number"] == 2


async def test_a_retry_with_the_same_key_returns_the_same_order_and_debits_once(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    _, headers = await customer(kiosk, factory, site, balance_cents=2000)
    key = new_key()
    first = await place(kiosk, headers, ("PLAT", 1), key=key)
    again = await place(kiosk, headers, ("PLAT", 1), key=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotency-Replayed"] == "true"
    assert again.json() == first.json()
    assert await balance(kiosk, headers) == 2000 - 850
    assert await count_orders(factory) == 1
    other_basket = await place(kiosk, headers, ("CAFE", 1), key=key)
    assert_problem(other_basket, 422, "idempotency-key-reused")
    no_key = await kiosk.post(
        "/v1/me/orders", json={"lines": [{"item_code": "CAFE", "quantity": 1}]}, headers=headers
    )
    assert_problem(no_key, 400, "idempotency-key-missing")


async def test_insufficient_balance_leaves_no_order_and_the_stock_untouched(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    _, headers = await customer(kiosk, factory, site, balance_cents=1000)
    answer = await place(kiosk, headers, ("PANIER", 1))
    assert_problem(answer, 409, "insufficient-balance")
    assert await balance(kiosk, headers) == 1000
    assert await stock(kiosk, headers, "PANIER") == 3
    assert await count_orders(factory) == 0


async def test_a_sold_out_item_refuses_the_whole_order_and_names_the_line(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    _, headers = await customer(kiosk, factory, site, balance_cents=10000)
    too_many = await place(kiosk, headers, ("CAFE", 1), ("PANIER", 4))
    body = assert_problem(too_many, 409, "item-sold-out")
    assert body["errors"] == [{"field": "lines.1.item_code", "message": "PANIER"}]
    assert (await place(kiosk, headers, ("PANIER", 3))).status_code == 201
    assert await stock(kiosk, headers, "PANIER") == 0
    sold_out = await place(kiosk, headers, ("PANIER", 1))
    assert_problem(sold_out, 409, "item-sold-out")
    assert await balance(kiosk, headers) == 10000 - 3 * 1150


async def test_unknown_late_or_priced_lines_are_refused(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    _, headers = await customer(kiosk, factory, site)
    assert_problem(await place(kiosk, headers, ("CAVIAR", 1)), 422, "item-unknown")
    priced = await kiosk.post(
        "/v1/me/orders",
        json={"lines": [{"item_code": "PLAT", "quantity": 1, "unit_price_cents": 1}]},
        headers={**headers, "Idempotency-Key": new_key()},
    )
    assert_problem(priced, 422, "validation-failed")
    assert_problem(await place(kiosk, headers, ("PLAT", 21)), 422, "validation-failed")
    at_paris(clock, 10, 31)
    late = assert_problem(await place(kiosk, headers, ("PANIER", 1)), 409, "item-deadline-passed")
    assert late["errors"] == [{"field": "lines.0.item_code", "message": "PANIER"}]
    at_paris(clock, 10, 0, day=7)  # A Saturday: no plat du jour.
    assert_problem(await place(kiosk, headers, ("PLAT", 1)), 409, "item-unavailable")
    assert await balance(kiosk, headers) == 5000


async def test_orders_are_listed_newest_first_and_split_into_active_and_past(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    _, headers = await customer(kiosk, factory, site)
    ids = [(await place(kiosk, headers, ("CAFE", 1))).json()["id"] for _ in range(3)]
    assert (await cancel(kiosk, headers, ids[0])).status_code == 200
    everything = (await kiosk.get("/v1/me/orders", headers=headers)).json()
    assert [order["id"] for order in everything["items"]] == ids[::-1]
    active = (await kiosk.get("/v1/me/orders?state=active", headers=headers)).json()
    assert [order["id"] for order in active["items"]] == [ids[2], ids[1]]
    past = (await kiosk.get("/v1/me/orders?state=past", headers=headers)).json()
    assert [(o["id"], o["state"]) for o in past["items"]] == [(ids[0], "cancelled")]
    first_page = (await kiosk.get("/v1/me/orders?limit=2", headers=headers)).json()
    assert [order["id"] for order in first_page["items"]] == [ids[2], ids[1]]
    rest = await kiosk.get(f"/v1/me/orders?cursor={first_page['next_cursor']}", headers=headers)
    assert [order["id"] for order in rest.json()["items"]] == [ids[0]]
    assert rest.json()["next_cursor"] is None
    assert_problem(
        await kiosk.get("/v1/me/orders?state=all", headers=headers), 422, "validation-failed"
    )


async def test_cancelling_refunds_once_and_puts_the_stock_back(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    account, headers = await customer(kiosk, factory, site, balance_cents=3000)
    order = (await place(kiosk, headers, ("PANIER", 2))).json()
    assert await stock(kiosk, headers, "PANIER") == 1
    key = new_key()
    cancelled = await cancel(kiosk, headers, order["id"], key)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["refund"]["amount_cents"] == 2300
    assert cancelled.json()["balance_after"]["amount_cents"] == 3000
    replay = await cancel(kiosk, headers, order["id"], key)
    assert replay.headers["Idempotency-Replayed"] == "true"
    assert replay.json() == cancelled.json()
    again = assert_problem(await cancel(kiosk, headers, order["id"]), 409, "order-not-cancellable")
    assert again["errors"] == [{"field": "reason", "message": "already_cancelled"}]
    assert await balance(kiosk, headers) == 3000
    assert await stock(kiosk, headers, "PANIER") == 3
    refund = await kiosk.get(
        f"/v1/me/tickets/{cancelled.json()['refund_ticket_id']}", headers=headers
    )
    assert refund.json()["kind"] == "refund"
    assert refund.json()["amount"]["amount_cents"] == 2300
    detail = (await kiosk.get(f"/v1/me/orders/{order['id']}", headers=headers)).json()
    assert [(step["state"], step["by"]) for step in detail["history"]] == [
        ("created", "person"),
        ("paid", "person"),
        ("cancelled", "person"),
    ]
    assert detail["cancellable"] is False
    async with factory.session_factory() as session:
        refunds = await session.scalar(
            select(func.count(LedgerEntry.id)).where(
                LedgerEntry.account_id == account.id, LedgerEntry.kind == "refund"
            )
        )
        assert refunds == 1
        assert await ledger.sum_of_entries(session, account.id) == 3000


async def test_the_tickets_of_an_order_name_it(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    _, headers = await customer(kiosk, factory, site, balance_cents=3000)
    paid = (await place(kiosk, headers, ("PANIER", 1))).json()
    other = (await place(kiosk, headers, ("PANIER", 1))).json()
    cancelled = (await cancel(kiosk, headers, paid["id"], new_key())).json()
    history = (await kiosk.get("/v1/me/tickets", headers=headers)).json()["items"]
    # Newest first: the refund, the second order, the first order.
    assert [(t["id"], t["kind"], t["order_id"], t["top_up_id"]) for t in history] == [
        (cancelled["refund_ticket_id"], "refund", paid["id"], None),
        (other["ticket_id"], "purchase", other["id"], None),
        (paid["ticket_id"], "purchase", paid["id"], None),
    ]
    detail = (await kiosk.get(f"/v1/me/tickets/{paid['ticket_id']}", headers=headers)).json()
    assert detail["order_id"] == paid["id"]


async def test_once_preparation_started_cancelling_is_refused_with_the_reason(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, service_app: FastAPI
) -> None:
    _, headers = await customer(kiosk, factory, site)
    order = (await place(kiosk, headers, ("PLAT", 1))).json()
    async with await kitchen_client(service_app, factory, [site]) as kitchen:
        assert (await move(kitchen, order["id"], "in_preparation")).status_code == 200
    refused = assert_problem(
        await cancel(kiosk, headers, order["id"]), 409, "order-not-cancellable"
    )
    assert refused["errors"] == [{"field": "reason", "message": "preparation_started"}]
    assert await balance(kiosk, headers) == 5000 - 850
    detail = (await kiosk.get(f"/v1/me/orders/{order['id']}", headers=headers)).json()
    assert detail["state"] == "in_preparation"
    assert detail["cancellable"] is False


async def test_the_site_cutoff_before_the_deadline_stops_cancelling(
    kiosk: httpx.AsyncClient, factory: Factory, clock: ManualClock
) -> None:
    site = await factory.site(
        "CUTOFF", settings={**LONG_SESSIONS, "order_cancel_cutoff_minutes": 30}
    )
    await load(factory, site)
    terminal = await factory.device([site])
    kiosk.headers["X-Device-Key"] = terminal.key
    _, headers = await customer(kiosk, factory, site)
    at_paris(clock, 9, 50)
    early = (await place(kiosk, headers, ("PANIER", 1))).json()
    late = (await place(kiosk, headers, ("PANIER", 1))).json()
    coffee = (await place(kiosk, headers, ("CAFE", 1))).json()
    assert (await cancel(kiosk, headers, early["id"])).status_code == 200
    at_paris(clock, 10, 1)
    refused = assert_problem(await cancel(kiosk, headers, late["id"]), 409, "order-not-cancellable")
    assert refused["errors"] == [{"field": "reason", "message": "cutoff_passed"}]
    assert (await cancel(kiosk, headers, coffee["id"])).status_code == 200


async def test_another_persons_order_is_unknown(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    _, jeanne = await customer(kiosk, factory, site, "1001")
    order = (await place(kiosk, jeanne, ("CAFE", 1))).json()
    _, paul = await customer(kiosk, factory, site, "1002", name="Paul", email="paul@example.com")
    assert_problem(
        await kiosk.get(f"/v1/me/orders/{order['id']}", headers=paul), 404, "order-unknown"
    )
    assert_problem(await cancel(kiosk, paul, order["id"]), 404, "order-unknown")
    assert (await kiosk.get("/v1/me/orders", headers=paul)).json()["items"] == []
    assert await balance(kiosk, jeanne) == 5000 - 120


async def test_pickup_numbers_restart_each_day(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    _, headers = await customer(kiosk, factory, site)
    numbers = [(await place(kiosk, headers, ("CAFE", 1))).json()["pickup_number"] for _ in range(2)]
    at_paris(clock, 23, 59)
    numbers.append((await place(kiosk, headers, ("CAFE", 1))).json()["pickup_number"])
    at_paris(clock, 0, 1, day=3)
    numbers.append((await place(kiosk, headers, ("CAFE", 1))).json()["pickup_number"])
    assert numbers == [1, 2, 3, 1]


ORDERS_AT_ONCE = 100


async def test_concurrent_orders_never_overdraw_nor_oversell(
    service_app: FastAPI, factory: Factory, site: Site, terminal: EnrolledDevice
) -> None:
    """100 orders of 10.00 at once on a balance of 50.00 (no overdraft), each from its own
    client with its own key: exactly 5 are paid. Then 100 orders at once from 4 people for an
    item with 7 left: exactly 7 are sold."""
    await load(factory, site, CONCURRENT_CATALOGUE)
    async with device_client(service_app, terminal.key) as kiosk:
        account, headers = await customer(kiosk, factory, site, balance_cents=5000)

    async def order_once(code: str, who: dict[str, str]) -> int:
        async with device_client(service_app, terminal.key) as client:
            return (await place(client, who, (code, 1))).status_code

    statuses = await asyncio.gather(*(order_once("MENU", headers) for _ in range(ORDERS_AT_ONCE)))
    assert statuses.count(201) == 5
    assert statuses.count(409) == ORDERS_AT_ONCE - 5
    async with factory.session_factory() as session:
        stored = await session.get(Account, account.id)
        assert stored is not None
        assert stored.balance_cents == 0
        assert await ledger.sum_of_entries(session, account.id) == 0
        assert await ledger.mismatched_balances(session) == []
    assert await count_orders(factory) == 5

    buyers = []
    async with device_client(service_app, terminal.key) as kiosk:
        for number in range(4):
            buyers.append(
                (
                    await customer(
                        kiosk,
                        factory,
                        site,
                        f"20{number}",
                        name=f"Buyer {number}",
                        balance_cents=100000,
                    )
                )[1]
            )
    statuses = await asyncio.gather(
        *(order_once("RARE", buyers[i % 4]) for i in range(ORDERS_AT_ONCE))
    )
    assert statuses.count(201) == 7
    async with factory.session_factory() as session:
        rare = await session.scalar(select(CatalogueItem).where(CatalogueItem.code == "RARE"))
        assert rare is not None and rare.stock == 0
        sold = await session.scalar(
            select(func.coalesce(func.sum(OrderLine.quantity), 0)).where(OrderLine.code == "RARE")
        )
        assert sold == 7
        assert await ledger.mismatched_balances(session) == []


CONCURRENT_CATALOGUE = """
[[items]]
code = "MENU"
name = "Menu"
price_cents = 1000
vat_rate_bp = 1000

[[items]]
code = "RARE"
name = "Dessert du chef"
price_cents = 500
vat_rate_bp = 1000
stock = 7
"""
