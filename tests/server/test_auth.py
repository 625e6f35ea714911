"""Activation, forgotten PIN, sign-in and sessions, through HTTP."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from kiosk_server.clock import ManualClock
from kiosk_server.models import Site
from kiosk_server.pin_rules import is_trivial_pin
from kiosk_server.security import mask_email, mask_phone
from tests.conftest import device_client
from tests.factories import Factory
from tests.server.conftest import (
    PIN,
    assert_problem,
    bearer,
    check_code,
    choose_pin_by_code,
    identify,
    send_code,
    sign_in,
)


async def test_activation_from_code_to_home(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    account = await factory.account(site, "E1001", name="Jeanne Martin")
    await factory.ledger_entry(account, 2000)
    await factory.ledger_entry(account, -750, kind="purchase")

    identified = await identify(kiosk, "  E1001 ", solution="cantine")
    assert identified.status_code == 200
    assert identified.json() == {
        "account_state": "pending_activation",
        "site": {"code": "CANTINE", "name": "Cantine Lumière"},
    }

    sent = await send_code(kiosk, "E1001")
    assert sent.status_code == 202
    assert sent.json()["channel"] == "email"
    assert sent.json()["destination"] == "j***@example.com"
    (message,) = await factory.outbox("jeanne@example.com")
    assert message.channel == "email"
    assert "Votre code de vérification" in message.body
    code = await factory.last_code("jeanne@example.com")

    wrong = "000000" if code != "000000" else "111111"
    assert_problem(await check_code(kiosk, "E1001", wrong), 422, "verification-code-invalid")
    checked = await check_code(kiosk, "E1001", code)
    assert checked.status_code == 200
    token = checked.json()["pin_setup_token"]

    for trivial in ("000000", "123456", "112233", "121212", "123123", "654321"):
        refused = await kiosk.post("/v1/auth/pin", json={"pin_setup_token": token, "pin": trivial})
        assert_problem(refused, 422, "pin-too-simple")
    for malformed in ("12345", "1234567", "12a456", ""):
        refused = await kiosk.post(
            "/v1/auth/pin", json={"pin_setup_token": token, "pin": malformed}
        )
        assert_problem(refused, 422, "pin-malformed")

    chosen = await kiosk.post("/v1/auth/pin", json={"pin_setup_token": token, "pin": PIN})
    assert chosen.status_code == 201
    session = chosen.json()
    assert session["me"]["name"] == "Jeanne Martin"
    assert session["me"]["balance"] == {"amount_cents": 1250, "currency": "EUR"}

    me = await kiosk.get("/v1/me", headers=bearer(session["token"]))
    assert me.status_code == 200
    assert me.json() == {
        "identifier": "E1001",
        "name": "Jeanne Martin",
        "roles": ["member"],
        "site": {
            "code": "CANTINE",
            "name": "Cantine Lumière",
            "currency": "EUR",
            "locale": "fr_FR",
            "time_zone": "Europe/Paris",
            "overdraft_limit_cents": 0,
        },
        "balance": {"amount_cents": 1250, "currency": "EUR"},
        "language": None,
    }
    assert (await identify(kiosk, "E1001")).json()["account_state"] == "active"
    # The setup token worked once.
    again = await kiosk.post("/v1/auth/pin", json={"pin_setup_token": token, "pin": "415927"})
    assert_problem(again, 410, "pin-setup-expired")
    # And the new PIN signs in.
    assert (await sign_in(kiosk, "E1001", PIN)).status_code == 201


async def test_code_by_sms_when_there_is_no_email(service_app: FastAPI, factory: Factory) -> None:
    site = await factory.site("ENGLISH", locale="en_GB", currency="GBP")
    other = await factory.device([site])
    await factory.account(site, "P7", email=None, phone="+33612345642")
    async with device_client(service_app, other.key) as english:
        sent = await send_code(english, "P7", solution="english")
    assert sent.status_code == 202
    assert sent.json()["channel"] == "sms"
    assert sent.json()["destination"] == "+33 6** ** ** 42"
    (message,) = await factory.outbox("+33612345642")
    assert message.channel == "sms"
    assert message.body.startswith("Your verification code: ")


async def test_activation_refused_when_active_or_without_contact(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "A1", pin=PIN)
    await factory.account(site, "N1", email=None, phone=None)
    assert_problem(await send_code(kiosk, "A1"), 409, "account-already-active")
    assert_problem(await send_code(kiosk, "N1"), 409, "no-contact")
    assert_problem(await send_code(kiosk, "NOBODY"), 404, "account-unknown")


async def test_sign_in_and_sign_out(kiosk: httpx.AsyncClient, factory: Factory, site: Site) -> None:
    account = await factory.account(site, "E2", name="Paul", pin=PIN, roles=["reception"])
    await factory.ledger_entry(account, 990)
    signed_in = await sign_in(kiosk, "E2", PIN)
    assert signed_in.status_code == 201
    session = signed_in.json()
    assert session["me"]["roles"] == ["member", "reception"]
    assert session["me"]["balance"]["amount_cents"] == 990
    headers = bearer(session["token"])

    assert (await kiosk.get("/v1/me", headers=headers)).status_code == 200
    signed_out = await kiosk.delete("/v1/auth/sessions/current", headers=headers)
    assert signed_out.status_code == 204
    assert_problem(await kiosk.get("/v1/me", headers=headers), 401, "session-invalid")
    assert_problem(await kiosk.get("/v1/me"), 401, "session-missing")


async def test_pending_and_blocked_accounts_cannot_sign_in(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "PEND")
    await factory.account(site, "BLK", pin=PIN, status="blocked")
    assert_problem(await sign_in(kiosk, "PEND", PIN), 409, "account-not-active")
    assert_problem(await sign_in(kiosk, "BLK", PIN), 403, "account-blocked")
    assert_problem(await sign_in(kiosk, "NOBODY", PIN), 404, "account-unknown")


async def test_session_expires(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await factory.account(site, "E3", pin=PIN)
    token = (await sign_in(kiosk, "E3", PIN)).json()["token"]
    clock.advance(minutes=29)
    assert (await kiosk.get("/v1/me", headers=bearer(token))).status_code == 200
    clock.advance(minutes=1, seconds=1)
    assert_problem(await kiosk.get("/v1/me", headers=bearer(token)), 401, "session-invalid")


async def test_session_of_another_device_is_refused(
    kiosk: httpx.AsyncClient, service_app: FastAPI, factory: Factory, site: Site
) -> None:
    await factory.account(site, "E4", pin=PIN)
    token = (await sign_in(kiosk, "E4", PIN)).json()["token"]
    other = await factory.device([site], name="Borne cafétéria")
    async with device_client(service_app, other.key) as elsewhere:
        assert_problem(await elsewhere.get("/v1/me", headers=bearer(token)), 401, "session-invalid")
    assert_problem(await kiosk.get("/v1/me", headers=bearer("forged")), 401, "session-invalid")


async def test_expired_code(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await factory.account(site, "E5")
    assert (await send_code(kiosk, "E5")).status_code == 202
    code = await factory.last_code("jeanne@example.com")
    clock.advance(minutes=10, seconds=1)
    assert_problem(await check_code(kiosk, "E5", code), 410, "verification-code-expired")


async def test_code_is_exhausted_after_five_wrong_tries(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "E6")
    assert (await send_code(kiosk, "E6")).status_code == 202
    code = await factory.last_code("jeanne@example.com")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert_problem(await check_code(kiosk, "E6", wrong), 422, "verification-code-invalid")
    assert_problem(await check_code(kiosk, "E6", code), 410, "verification-code-expired")


async def test_new_code_replaces_the_earlier_one(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "E7")
    await send_code(kiosk, "E7")
    first = await factory.last_code("jeanne@example.com")
    await send_code(kiosk, "E7")
    second = await factory.last_code("jeanne@example.com")
    if first != second:
        assert_problem(await check_code(kiosk, "E7", first), 422, "verification-code-invalid")
    assert (await check_code(kiosk, "E7", second)).status_code == 200


async def test_resend_limit(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await factory.account(site, "E8")
    for _ in range(3):
        assert (await send_code(kiosk, "E8")).status_code == 202
        clock.advance(minutes=1)
    refused = await send_code(kiosk, "E8")
    body = assert_problem(refused, 429, "verification-send-limit")
    # The first of the three codes was sent 3 minutes ago: the window frees up in 12 minutes.
    assert body["retry_after"] == 12 * 60
    assert refused.headers["Retry-After"] == str(12 * 60)
    assert len(await factory.outbox("jeanne@example.com")) == 3

    clock.advance(minutes=12, seconds=1)
    assert (await send_code(kiosk, "E8")).status_code == 202
    assert len(await factory.outbox("jeanne@example.com")) == 4


async def test_forgotten_pin_chooses_a_new_one(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "E9", pin=PIN)
    session = await choose_pin_by_code(
        kiosk, factory, "E9", "jeanne@example.com", "270318", purpose="reset_pin"
    )
    assert session["token"]
    assert_problem(await sign_in(kiosk, "E9", PIN), 401, "pin-incorrect")
    assert (await sign_in(kiosk, "E9", "270318")).status_code == 201


@pytest.mark.parametrize(
    ("pin", "trivial"),
    [
        ("000000", True),
        ("123456", True),
        ("012345", True),
        ("654321", True),
        ("112233", True),
        ("121212", True),
        ("123123", True),
        ("159753", True),
        ("415926", False),
        ("270318", False),
        ("908172", False),
    ],
)
def test_trivial_pins(pin: str, trivial: bool) -> None:
    assert is_trivial_pin(pin) is trivial


def test_contacts_are_masked() -> None:
    assert mask_email("jeanne.martin@example.com") == "j***@example.com"
    assert mask_phone("+33612345642") == "+33 6** ** ** 42"
    assert mask_phone("+447911123456") == "+44 ******** 56"
    assert mask_phone("+14155550123") == "+1 ******** 23"
