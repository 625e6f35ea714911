"""Wrong PINs: a pause on one terminal, a lock across terminals, and a terminal that slows down
when it sees many failures across accounts."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from kiosk_server.clock import ManualClock
from kiosk_server.models import Account, Site
from tests.conftest import device_client
from tests.factories import Factory
from tests.server.conftest import (
    PIN,
    assert_problem,
    choose_pin_by_code,
    identify,
    sign_in,
)

WRONG = "999111"


async def test_pause_after_five_failures_on_one_terminal_only(
    kiosk: httpx.AsyncClient, service_app: FastAPI, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await factory.account(site, "E1", pin=PIN)
    for _ in range(5):
        body = assert_problem(await sign_in(kiosk, "E1", WRONG), 401, "pin-incorrect")
        assert "retry_after" not in body
        clock.advance(seconds=10)

    paused = await sign_in(kiosk, "E1", PIN)
    body = assert_problem(paused, 423, "account-paused")
    # The first of the five failures was 50 s ago; the pause lasts 15 minutes from it.
    assert body["retry_after"] == 15 * 60 - 50
    assert paused.headers["Retry-After"] == str(15 * 60 - 50)

    other = await factory.device([site], name="Borne cafétéria")
    async with device_client(service_app, other.key) as elsewhere:
        assert (await sign_in(elsewhere, "E1", PIN)).status_code == 201


async def test_the_tries_left_are_told_from_the_third_wrong_pin(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "E4", pin=PIN)
    told = []
    for _ in range(5):
        body = assert_problem(await sign_in(kiosk, "E4", WRONG), 401, "pin-incorrect")
        told.append(body.get("attempts_left"))
    assert told == [None, None, 2, 1, 0]
    assert_problem(await sign_in(kiosk, "E4", PIN), 423, "account-paused")


async def test_pause_ends_with_time(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await factory.account(site, "E2", pin=PIN)
    for _ in range(5):
        assert_problem(await sign_in(kiosk, "E2", WRONG), 401, "pin-incorrect")
    clock.advance(minutes=14, seconds=59)
    assert_problem(await sign_in(kiosk, "E2", PIN), 423, "account-paused")
    clock.advance(seconds=1)
    assert (await sign_in(kiosk, "E2", PIN)).status_code == 201


async def test_success_forgets_earlier_failures(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "E3", pin=PIN)
    for _ in range(4):
        assert_problem(await sign_in(kiosk, "E3", WRONG), 401, "pin-incorrect")
    assert (await sign_in(kiosk, "E3", PIN)).status_code == 201
    for _ in range(4):
        assert_problem(await sign_in(kiosk, "E3", WRONG), 401, "pin-incorrect")
    assert (await sign_in(kiosk, "E3", PIN)).status_code == 201


async def test_lock_after_ten_failures_across_terminals_and_unlock_by_code(
    kiosk: httpx.AsyncClient, service_app: FastAPI, factory: Factory, site: Site
) -> None:
    account = await factory.account(site, "E4", pin=PIN)
    second = await factory.device([site], name="Borne 2")
    third = await factory.device([site], name="Borne 3")
    async with (
        device_client(service_app, second.key) as kiosk2,
        device_client(service_app, third.key) as kiosk3,
    ):
        for _ in range(5):
            assert_problem(await sign_in(kiosk, "E4", WRONG), 401, "pin-incorrect")
        for _ in range(5):
            assert_problem(await sign_in(kiosk2, "E4", WRONG), 401, "pin-incorrect")
        assert_problem(await sign_in(kiosk3, "E4", PIN), 423, "account-locked")
        assert (await identify(kiosk3, "E4")).json()["account_state"] == "locked"
        stored: Account = await factory.get(Account, account.id)
        assert stored.locked_at is not None

        await choose_pin_by_code(
            kiosk3, factory, "E4", "jeanne@example.com", "270318", purpose="reset_pin"
        )
        assert (await identify(kiosk3, "E4")).json()["account_state"] == "active"
        # Unlocking also forgets the failures: the first terminal is not paused any more.
        assert (await sign_in(kiosk, "E4", "270318")).status_code == 201


async def test_terminal_slows_down_after_failures_across_accounts(
    service_app: FastAPI, factory: Factory, clock: ManualClock
) -> None:
    site = await factory.site("THROTTLE", settings={"terminal_throttle_failures": 4})
    for number in range(3):
        await factory.account(site, f"T{number}", pin=PIN)
    terminal = await factory.device([site])
    other = await factory.device([site])
    async with (
        device_client(service_app, terminal.key) as kiosk,
        device_client(service_app, other.key) as elsewhere,
    ):
        # One PIN tried on several accounts, and an identifier that does not exist.
        for number in range(3):
            assert_problem(
                await sign_in(kiosk, f"T{number}", WRONG, "THROTTLE"), 401, "pin-incorrect"
            )
        assert_problem(await identify(kiosk, "NOBODY", "THROTTLE"), 404, "account-unknown")

        throttled = await identify(kiosk, "T0", "THROTTLE")
        body = assert_problem(throttled, 429, "terminal-throttled")
        assert body["retry_after"] == 1
        assert throttled.headers["Retry-After"] == "1"
        assert_problem(await sign_in(kiosk, "T1", PIN, "THROTTLE"), 429, "terminal-throttled")
        # Another terminal is not slowed down.
        assert (await sign_in(elsewhere, "T1", PIN, "THROTTLE")).status_code == 201

        clock.advance(seconds=1)
        assert_problem(await identify(kiosk, "NOBODY", "THROTTLE"), 404, "account-unknown")
        # Each further failure doubles the wait.
        body = assert_problem(await identify(kiosk, "T0", "THROTTLE"), 429, "terminal-throttled")
        assert body["retry_after"] == 2
        clock.advance(seconds=2)
        assert (await identify(kiosk, "T0", "THROTTLE")).status_code == 200
