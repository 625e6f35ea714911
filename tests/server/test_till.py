"""Till purchases over HTTP: paid with a badge token, checked, debited once, with a ticket."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from kiosk_server.clock import ManualClock
from kiosk_server.models import Account, Site
from tests.conftest import device_client
from tests.factories import Factory
from tests.server.conftest import PIN, assert_problem, bearer, sign_in
from tests.server.money_support import badge_token, buy, purchase_body

LUNCH = ("Plat du jour", 1, 850, 1000)


async def balance_seen(kiosk: httpx.AsyncClient, identifier: str) -> int:
    """The balance the person sees on a terminal after signing in."""
    signed_in = await sign_in(kiosk, identifier, PIN)
    assert signed_in.status_code == 201, signed_in.text
    me = await kiosk.get("/v1/me", headers=bearer(signed_in.json()["token"]))
    amount: int = me.json()["balance"]["amount_cents"]
    return amount


async def test_a_purchase_debits_the_account_and_answers_name_and_balance(
    till: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    jeanne: Account,
    site: Site,
    clock: ManualClock,
) -> None:
    body = purchase_body(badge_token(jeanne, site, clock), LUNCH, ("Café", 2, 120, 1000))
    answer = await buy(till, body)
    assert answer.status_code == 201, answer.text
    receipt = answer.json()
    assert receipt["name"] == "Jeanne Martin"
    assert receipt["total"] == {"amount_cents": 1090, "currency": "EUR"}
    assert receipt["balance_after"] == {"amount_cents": 910, "currency": "EUR"}
    assert isinstance(receipt["ticket_id"], int)
    assert "Idempotency-Replayed" not in answer.headers
    assert await balance_seen(kiosk, "1001") == 910


async def test_a_total_that_does_not_match_the_lines_is_refused(
    till: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    jeanne: Account,
    site: Site,
    clock: ManualClock,
) -> None:
    body = purchase_body(badge_token(jeanne, site, clock), LUNCH)
    body["total_cents"] = 800
    assert_problem(await buy(till, body), 422, "total-mismatch")
    assert await balance_seen(kiosk, "1001") == 2000


async def test_only_a_till_may_record_a_purchase(
    kiosk: httpx.AsyncClient, jeanne: Account, site: Site, clock: ManualClock
) -> None:
    body = purchase_body(badge_token(jeanne, site, clock), LUNCH)
    assert_problem(await buy(kiosk, body), 403, "device-role-forbidden")


async def test_one_badge_token_pays_once(
    till: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    jeanne: Account,
    site: Site,
    clock: ManualClock,
) -> None:
    token = badge_token(jeanne, site, clock)
    assert (await buy(till, purchase_body(token, LUNCH))).status_code == 201
    again = await buy(till, purchase_body(token, ("Café", 1, 120, 1000)))
    assert_problem(again, 409, "badge-already-used")
    assert await balance_seen(kiosk, "1001") == 1150
    # The next token the badge shows pays.
    clock.advance(seconds=30)
    later = await buy(till, purchase_body(badge_token(jeanne, site, clock), ("Café", 1, 120, 1000)))
    assert later.status_code == 201, later.text
    assert later.json()["balance_after"]["amount_cents"] == 1030


async def test_an_expired_token_is_refused(
    till: httpx.AsyncClient, jeanne: Account, site: Site, clock: ManualClock
) -> None:
    token = badge_token(jeanne, site, clock)
    clock.advance(minutes=2)
    assert_problem(await buy(till, purchase_body(token, LUNCH)), 410, "badge-expired")


async def test_insufficient_balance_is_refused_and_does_not_spend_the_token(
    till: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    factory: Factory,
    jeanne: Account,
    site: Site,
    clock: ManualClock,
) -> None:
    token = badge_token(jeanne, site, clock)
    feast = purchase_body(token, ("Menu gastronomique", 1, 2500, 1000))
    refused = await buy(till, feast)
    body = assert_problem(refused, 409, "insufficient-balance")
    assert "Top up" in str(body["detail"])
    assert await balance_seen(kiosk, "1001") == 2000
    await factory.ledger_entry(jeanne, 1000)
    paid = await buy(till, feast)  # a new intent (new key), the same token: it was not spent
    assert paid.status_code == 201, paid.text
    assert paid.json()["balance_after"]["amount_cents"] == 500


async def test_the_site_overdraft_policy_lets_a_balance_go_down_to_its_floor(
    service_app: FastAPI, factory: Factory, clock: ManualClock
) -> None:
    site = await factory.site("CREDIT", settings={"overdraft_limit_cents": 500})
    device = await factory.device([site], role="till", name="Caisse 2")
    account = await factory.account(site, "2001", name="Paul Durand", pin=PIN)
    await factory.ledger_entry(account, 300)
    async with device_client(service_app, device.key) as till:
        first = await buy(
            till, purchase_body(badge_token(account, site, clock), ("Menu", 1, 700, 1000))
        )
        assert first.status_code == 201, first.text
        assert first.json()["balance_after"]["amount_cents"] == -400
        clock.advance(seconds=30)
        second = await buy(
            till, purchase_body(badge_token(account, site, clock), ("Café", 1, 200, 1000))
        )
        assert_problem(second, 409, "insufficient-balance")
        third = await buy(
            till, purchase_body(badge_token(account, site, clock), ("Café", 1, 100, 1000))
        )
        assert third.json()["balance_after"]["amount_cents"] == -500


async def test_a_blocked_account_cannot_pay(
    till: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    blocked = await factory.account(site, "1002", name="Marc Blo", status="blocked")
    await factory.ledger_entry(blocked, 2000)
    body = purchase_body(badge_token(blocked, site, clock), LUNCH)
    assert_problem(await buy(till, body), 403, "account-blocked")


async def test_a_badge_of_a_site_the_till_does_not_serve_is_refused(
    till: httpx.AsyncClient, factory: Factory, clock: ManualClock
) -> None:
    other = await factory.site("AUTRE", name="Autre site")
    stranger = await factory.account(other, "1001", name="Ana Autre", pin=PIN)
    await factory.ledger_entry(stranger, 2000)
    body = purchase_body(badge_token(stranger, other, clock), LUNCH)
    assert_problem(await buy(till, body), 403, "badge-other-site")


async def test_bad_lines_are_validation_errors(
    till: httpx.AsyncClient, jeanne: Account, site: Site, clock: ManualClock
) -> None:
    body = purchase_body(badge_token(jeanne, site, clock), ("Plat\x1b[31m", 1, 850, 1000))
    assert_problem(await buy(till, body), 422, "validation-failed")
    body = purchase_body(badge_token(jeanne, site, clock), ("Plat", 0, 850, 1000))
    assert_problem(await buy(till, body), 422, "validation-failed")


async def test_a_purchase_needs_an_idempotency_key(
    till: httpx.AsyncClient, jeanne: Account, site: Site, clock: ManualClock
) -> None:
    body = purchase_body(badge_token(jeanne, site, clock), LUNCH)
    answer = await till.post("/v1/till/purchases", json=body)
    assert_problem(answer, 400, "idempotency-key-missing")
    assert_problem(
        await till.post("/v1/till/purchases", json=body, headers={"Idempotency-Key": "x" * 300}),
        400,
        "idempotency-key-invalid",
    )


async def test_a_purchase_crossing_the_persons_alert_tells_them_once(
    till: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    factory: Factory,
    jeanne: Account,
    site: Site,
    clock: ManualClock,
) -> None:
    """Jeanne holds 20,00 and asked to be told below 10,00: the till's purchase that takes her
    to 11,50 says nothing, the one to 3,00 tells her, the next one below says nothing more."""
    async with factory.session_factory() as session, session.begin():
        account = await session.get(Account, jeanne.id)
        assert account is not None
        account.preferences = {"low_balance_cents": 1000}
    for steps_ahead, expected in ((0, 1150), (1, 300), (2, 180)):
        item = LUNCH if expected != 180 else ("Café", 1, 120, 1000)
        body = purchase_body(badge_token(jeanne, site, clock, steps_ahead=steps_ahead), item)
        clock.advance(seconds=30)
        answer = await buy(till, body)
        assert answer.status_code == 201, answer.text
        assert answer.json()["balance_after"]["amount_cents"] == expected
    signed_in = await sign_in(kiosk, "1001", PIN)
    notes = await kiosk.get("/v1/me/notifications", headers=bearer(signed_in.json()["token"]))
    low = [note for note in notes.json()["items"] if note["kind"] == "low_balance"]
    assert [note["data"]["amount_cents"] for note in low] == [300]
    [mail] = await factory.outbox(jeanne.email)
    assert mail.subject == "Solde bas"
