"""The ticket history of the signed-in person, and cash top-ups at reception, over HTTP."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from kiosk_server.clock import ManualClock
from kiosk_server.cursors import encode_cursor
from kiosk_server.models import Account, Site
from kiosk_server.services.money.adjustments import adjust
from tests.conftest import device_client
from tests.factories import Factory
from tests.server.conftest import PIN, assert_problem, bearer, sign_in
from tests.server.money_support import badge_token, buy, new_key, purchase_body


async def signed_in(kiosk: httpx.AsyncClient, identifier: str) -> dict[str, str]:
    answer = await sign_in(kiosk, identifier, PIN)
    assert answer.status_code == 201, answer.text
    return bearer(answer.json()["token"])


async def adjustments(factory: Factory, site: Site, account: Account, count: int) -> None:
    async with factory.session_factory() as session:
        mine = await session.get(Account, account.id)
        assert mine is not None
        for index in range(count):
            await adjust(
                session,
                site=site,
                account=mine,
                amount_cents=100 + index,
                reason=f"Ajustement {index}",
                now=factory.clock.now(),
            )
        await session.commit()


async def test_paging_through_75_tickets_newest_first_without_gaps(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    jeanne = await factory.account(site, "1001", pin=PIN)
    other = await factory.account(site, "1002", name="Paul", pin=PIN)
    await adjustments(factory, site, jeanne, 75)
    await adjustments(factory, site, other, 3)
    headers = await signed_in(kiosk, "1001")
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 30}
        if cursor:
            params["cursor"] = cursor
        page = await kiosk.get("/v1/me/tickets", params=params, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == 75 == len(set(seen))
    assert seen == sorted(seen, reverse=True)
    first = (await kiosk.get("/v1/me/tickets", headers=headers)).json()["items"][0]
    assert first["kind"] == "adjustment"
    assert first["amount"] == {"amount_cents": 174, "currency": "EUR"}
    assert first["balance_after"]["amount_cents"] == sum(100 + i for i in range(75))


async def test_a_bad_cursor_or_limit_is_refused(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "1001", pin=PIN)
    headers = await signed_in(kiosk, "1001")
    # Not shaped as a cursor: the document says what one looks like.
    bad = await kiosk.get("/v1/me/tickets", params={"cursor": "!!"}, headers=headers)
    assert_problem(bad, 422, "validation-failed")
    # Shaped as one, but not one this service gave: neither text nor an id beyond 64 bits.
    for forged in ("AAAA", encode_cursor(2**63), encode_cursor(2**70)):
        answer = await kiosk.get("/v1/me/tickets", params={"cursor": forged}, headers=headers)
        assert_problem(answer, 422, "cursor-invalid")
    too_many = await kiosk.get("/v1/me/tickets", params={"limit": 101}, headers=headers)
    assert_problem(too_many, 422, "validation-failed")
    assert_problem(await kiosk.get("/v1/me/tickets"), 401, "session-missing")


async def test_a_purchase_ticket_shows_lines_and_a_vat_summary_per_rate(
    service_app: FastAPI, kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    jeanne = await factory.account(site, "1001", pin=PIN)
    await factory.ledger_entry(jeanne, 2000)
    till = await factory.device([site], role="till", name="Caisse 1")
    async with device_client(service_app, till.key) as client:
        body = purchase_body(
            badge_token(jeanne, site, clock),
            ("Plat du jour", 1, 850, 1000),
            ("Eau", 2, 120, 550),
            ("Café", 1, 150, 1000),
        )
        paid = await buy(client, body)
    assert paid.status_code == 201, paid.text
    headers = await signed_in(kiosk, "1001")
    listed = (await kiosk.get("/v1/me/tickets", headers=headers)).json()["items"]
    assert [(t["kind"], t["place"], t["total"]["amount_cents"]) for t in listed] == [
        ("purchase", "Caisse 1", 1240)
    ]
    detail = await kiosk.get(f"/v1/me/tickets/{paid.json()['ticket_id']}", headers=headers)
    assert detail.status_code == 200, detail.text
    ticket = detail.json()
    # A till's purchase: neither an order nor a top-up made it (the till kept the ticket's id).
    assert (ticket["order_id"], ticket["top_up_id"]) == (None, None)
    assert [
        (line["item"], line["quantity"], line["line_total"]["amount_cents"])
        for line in ticket["lines"]
    ] == [
        ("Plat du jour", 1, 850),
        ("Eau", 2, 240),
        ("Café", 1, 150),
    ]
    vat = [
        (
            v["rate_bp"],
            v["base"]["amount_cents"],
            v["vat"]["amount_cents"],
            v["total"]["amount_cents"],
        )
        for v in ticket["vat"]
    ]
    # 240 / 1.055 = 227.49 → 227; 1000 / 1.10 = 909.09 → 909.
    assert vat == [(550, 227, 13, 240), (1000, 909, 91, 1000)]
    assert ticket["total"]["amount_cents"] == 1240
    assert ticket["amount"]["amount_cents"] == -1240
    assert ticket["balance_after"]["amount_cents"] == 760


async def test_another_persons_ticket_is_unknown(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "1001", pin=PIN)
    paul = await factory.account(site, "1002", name="Paul", pin=PIN)
    await adjustments(factory, site, paul, 1)
    headers = await signed_in(kiosk, "1001")
    assert_problem(await kiosk.get("/v1/me/tickets/1", headers=headers), 404, "ticket-unknown")
    assert_problem(await kiosk.get("/v1/me/tickets/999", headers=headers), 404, "ticket-unknown")


# --- cash top-ups ----------------------------------------------------------------------------


@pytest.fixture
async def reception(kiosk: httpx.AsyncClient, factory: Factory, site: Site) -> dict[str, str]:
    await factory.account(site, "R01", name="Alice Accueil", pin=PIN, roles=["reception"])
    return await signed_in(kiosk, "R01")


async def cash(
    kiosk: httpx.AsyncClient,
    headers: dict[str, str],
    identifier: str,
    cents: int,
    key: str | None = None,
) -> httpx.Response:
    return await kiosk.post(
        "/v1/cash-top-ups",
        json={"identifier": identifier, "amount_cents": cents},
        headers={**headers, "Idempotency-Key": key or new_key()},
    )


async def test_reception_records_a_cash_top_up_with_a_receipt_line(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, reception: dict[str, str]
) -> None:
    await factory.account(site, "1001", pin=PIN)
    key = new_key()
    answer = await cash(kiosk, reception, "1001", 2000, key)
    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == "Jeanne Martin"
    assert answer.json()["balance_after"] == {"amount_cents": 2000, "currency": "EUR"}
    replay = await cash(kiosk, reception, "1001", 2000, key)
    assert replay.headers["Idempotency-Replayed"] == "true"
    assert replay.json() == answer.json()

    person = await signed_in(kiosk, "1001")
    me = await kiosk.get("/v1/me", headers=person)
    assert me.json()["balance"]["amount_cents"] == 2000
    items = (await kiosk.get("/v1/me/tickets", headers=person)).json()["items"]
    assert [(t["kind"], t["place"]) for t in items] == [("top_up", "Borne hall")]
    detail = (await kiosk.get(f"/v1/me/tickets/{items[0]['id']}", headers=person)).json()
    assert [line["item"] for line in detail["lines"]] == ["Rechargement espèces"]


async def test_only_reception_staff_record_cash(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "1001", pin=PIN)
    member = await signed_in(kiosk, "1001")
    assert_problem(await cash(kiosk, member, "1001", 2000), 403, "role-forbidden")
    assert_problem(
        await kiosk.post("/v1/cash-top-ups", json={"identifier": "1001", "amount_cents": 2000}),
        401,
        "session-missing",
    )


async def test_cash_top_ups_outside_the_site_limits_are_refused_with_the_limits(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, reception: dict[str, str]
) -> None:
    await factory.account(site, "1001", pin=PIN)
    low = assert_problem(await cash(kiosk, reception, "1001", 499), 422, "top-up-out-of-range")
    assert "5.00 and 300.00 EUR" in str(low["detail"])
    assert_problem(await cash(kiosk, reception, "1001", 30001), 422, "top-up-out-of-range")
    assert_problem(await cash(kiosk, reception, "9999", 1000), 404, "account-unknown")
    assert_problem(
        await kiosk.post(
            "/v1/cash-top-ups", json={"identifier": "1001", "amount_cents": 1000}, headers=reception
        ),
        400,
        "idempotency-key-missing",
    )
