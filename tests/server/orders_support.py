"""Support for the order tests: a small catalogue, a signed-in person with a balance, a kitchen
screen, and the clock set to a time of day in Paris."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI

from kiosk_server.admin.catalogue import LoadReport, load_catalogue
from kiosk_server.clock import ManualClock
from kiosk_server.models import Account, Site
from tests.conftest import device_client
from tests.factories import Factory
from tests.server.conftest import PIN, bearer, sign_in
from tests.server.money_support import new_key

PARIS = ZoneInfo("Europe/Paris")

CATALOGUE = """
[[items]]
code = "PLAT"
name = "Plat du jour"
description = "Blanquette de veau"
price_cents = 850
vat_rate_bp = 1000
allergens = ["gluten", "milk", "celery"]
available_from = 07:00:00
available_until = 14:00:00
days = ["mon", "tue", "wed", "thu", "fri"]
order_deadline = 11:30:00

[[items]]
code = "CAFE"
name = "Café"
price_cents = 120
vat_rate_bp = 550

[[items]]
code = "PANIER"
kind = "service"
name = "Panier repas"
price_cents = 1150
vat_rate_bp = 1000
allergens = ["eggs"]
order_deadline = 10:30:00
stock = 3
"""


LONG_SESSIONS = {"session_minutes": 7 * 24 * 60}
"""Site settings that keep a person signed in while a test moves the clock across days."""


def at_paris(clock: ManualClock, hour: int, minute: int, *, day: int = 2) -> None:
    """Set the clock to that time of day in Paris on November `day` 2026 (the 2nd is a
    Monday)."""
    clock.set(dt.datetime(2026, 11, day, hour, minute, tzinfo=PARIS).astimezone(dt.UTC))


async def load(factory: Factory, site: Site, text: str = CATALOGUE) -> LoadReport:
    async with factory.session_factory() as session, session.begin():
        return await load_catalogue(session, site_code=site.code, text=text)


async def customer(
    kiosk: httpx.AsyncClient,
    factory: Factory,
    site: Site,
    identifier: str = "1001",
    *,
    balance_cents: int = 5000,
    name: str = "Jeanne Martin",
    email: str | None = "jeanne@example.com",
    phone: str | None = None,
) -> tuple[Account, dict[str, str]]:
    """An active account with this balance, signed in on the kiosk: (account, headers)."""
    account = await factory.account(site, identifier, name=name, email=email, phone=phone, pin=PIN)
    if balance_cents:
        await factory.ledger_entry(account, balance_cents)
    answer = await sign_in(kiosk, identifier, PIN, solution=site.code)
    assert answer.status_code == 201, answer.text
    return account, bearer(answer.json()["token"])


async def place(
    kiosk: httpx.AsyncClient,
    headers: dict[str, str],
    *lines: tuple[str, int],
    key: str | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"lines": [{"item_code": c, "quantity": q} for c, q in lines]}
    return await kiosk.post(
        "/v1/me/orders", json=body, headers={**headers, "Idempotency-Key": key or new_key()}
    )


async def cancel(
    kiosk: httpx.AsyncClient, headers: dict[str, str], order_id: object, key: str | None = None
) -> httpx.Response:
    return await kiosk.post(
        f"/v1/me/orders/{order_id}/cancel",
        headers={**headers, "Idempotency-Key": key or new_key()},
    )


async def balance(kiosk: httpx.AsyncClient, headers: dict[str, str]) -> int:
    me = await kiosk.get("/v1/me", headers=headers)
    assert me.status_code == 200, me.text
    cents: int = me.json()["balance"]["amount_cents"]
    return cents


async def stock(kiosk: httpx.AsyncClient, headers: dict[str, str], code: str) -> int | None:
    answer = await kiosk.get("/v1/catalogue", headers=headers)
    assert answer.status_code == 200, answer.text
    item = next(item for item in answer.json()["items"] if item["code"] == code)
    left: int | None = item["stock"]
    return left


async def kitchen_client(
    app: FastAPI, factory: Factory, sites: list[Site], name: str = "Cuisine"
) -> httpx.AsyncClient:
    device = await factory.device(sites, role="kitchen", name=name)
    return device_client(app, device.key)


async def move(kitchen: httpx.AsyncClient, order_id: object, to: str) -> httpx.Response:
    return await kitchen.post(f"/v1/kitchen/orders/{order_id}/transitions", json={"to": to})
