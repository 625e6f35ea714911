"""The worker's device cache: what it serves from memory, and when an admin's change shows."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from kiosk_server.admin.devices import revoke_device
from kiosk_server.clock import ManualClock
from kiosk_server.models import Site
from kiosk_server.services.devices import DeviceCache
from tests.conftest import device_client
from tests.factories import EnrolledDevice, Factory
from tests.server.conftest import assert_problem, bearer, sign_in
from tests.server.money_support import badge_token, buy, purchase_body


class Ticking:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticking(service_app: FastAPI) -> Ticking:
    """The app's device cache, on (10 s) with a clock of the test's."""
    clock = Ticking()
    service_app.state.device_cache = DeviceCache(10, monotonic=clock)
    return clock


@pytest.fixture
async def cached_kiosk(
    service_app: FastAPI, terminal: EnrolledDevice, ticking: Ticking
) -> AsyncIterator[httpx.AsyncClient]:
    async with device_client(service_app, terminal.key) as client:
        yield client


def test_the_cache_keeps_what_it_was_given_for_its_time_only() -> None:
    clock = Ticking()
    cache = DeviceCache(5, monotonic=clock)
    device = object()
    cache.put("hash", device)  # type: ignore[arg-type]
    assert cache.get("hash") is device
    assert cache.get("other") is None
    clock.now += 4.9
    assert cache.get("hash") is device
    clock.now += 0.1
    assert cache.get("hash") is None

    off = DeviceCache(0, monotonic=clock)
    off.put("hash", device)  # type: ignore[arg-type]
    assert off.get("hash") is None


async def test_a_revoked_device_is_refused_once_its_cache_time_has_passed(
    cached_kiosk: httpx.AsyncClient, factory: Factory, terminal: EnrolledDevice, ticking: Ticking
) -> None:
    assert (await cached_kiosk.get("/v1/device")).status_code == 200
    async with factory.session_factory() as session, session.begin():
        await revoke_device(session, device_id=terminal.id, now=factory.clock.now())

    # The documented trade-off: the worker serves from memory until the time is up...
    assert (await cached_kiosk.get("/v1/device")).status_code == 200
    ticking.now += 10
    # ...and then reads the device again, and refuses it from then on.
    assert_problem(await cached_kiosk.get("/v1/device"), 401, "device-key-invalid")
    ticking.now += 10
    assert_problem(await cached_kiosk.get("/v1/device"), 401, "device-key-invalid")


async def test_people_sign_in_and_out_on_a_cached_device(
    cached_kiosk: httpx.AsyncClient,
    service_app: FastAPI,
    factory: Factory,
    site: Site,
    ticking: Ticking,
) -> None:
    await factory.account(site, "E1", name="Jeanne Martin", pin="246810")
    await factory.account(site, "E2", name="Paul Durand", pin="135790")
    assert (await cached_kiosk.get("/v1/device")).status_code == 200  # the device is cached

    jeanne = bearer((await sign_in(cached_kiosk, "E1", "246810")).json()["token"])
    paul = bearer((await sign_in(cached_kiosk, "E2", "135790")).json()["token"])
    me = await cached_kiosk.get("/v1/me", headers=jeanne)
    assert me.status_code == 200, me.text
    assert me.json()["name"] == "Jeanne Martin"
    assert (await cached_kiosk.get("/v1/me", headers=paul)).json()["name"] == "Paul Durand"

    # A token opened on this terminal is worth nothing on another one, cached or not.
    other = await factory.device([site], name="Borne cantine")
    async with device_client(service_app, other.key) as elsewhere:
        assert_problem(await elsewhere.get("/v1/me", headers=jeanne), 401, "session-invalid")
        assert_problem(await elsewhere.get("/v1/me", headers=jeanne), 401, "session-invalid")

    signed_out = await cached_kiosk.delete("/v1/auth/sessions/current", headers=jeanne)
    assert signed_out.status_code == 204
    assert_problem(await cached_kiosk.get("/v1/me", headers=jeanne), 401, "session-invalid")
    assert_problem(
        await cached_kiosk.get("/v1/me", headers=bearer("made-up")), 401, "session-invalid"
    )
    assert (await cached_kiosk.get("/v1/me", headers=paul)).status_code == 200


async def test_a_refused_purchase_leaves_the_cached_till_working(
    service_app: FastAPI, factory: Factory, site: Site, clock: ManualClock, ticking: Ticking
) -> None:
    """A refusal rolls the request's work back; the till it came from, cached, must stay
    readable for the next requests (a rollback expires what its session holds)."""
    till_device = await factory.device([site], role="till", name="Caisse 1")
    jeanne = await factory.account(site, "1001", name="Jeanne Martin", pin="246810")
    await factory.ledger_entry(jeanne, 500)
    async with device_client(service_app, till_device.key) as till:
        too_dear = purchase_body(badge_token(jeanne, site, clock), ("Menu", 1, 850, 1000))
        assert_problem(await buy(till, too_dear), 409, "insufficient-balance")
        coffee = purchase_body(badge_token(jeanne, site, clock), ("Café", 1, 120, 1000))
        paid = await buy(till, coffee)
        assert paid.status_code == 201, paid.text
        assert paid.json()["balance_after"]["amount_cents"] == 380
        assert (await till.get("/v1/device")).json()["name"] == "Caisse 1"


async def test_a_signed_in_persons_reads_take_no_connection_and_their_changes_are_written(
    cached_kiosk: httpx.AsyncClient, service_app: FastAPI, factory: Factory, site: Site
) -> None:
    """On a cached device, the person's session and account are read on the side
    (`direct_reads`): a request that needs nothing more takes no connection from the engine's
    pool, and one that changes the account writes the change."""
    await factory.account(site, "E1", name="Jeanne Martin", pin="246810")
    jeanne = bearer((await sign_in(cached_kiosk, "E1", "246810")).json()["token"])
    engine = service_app.state.engine.sync_engine
    checkouts: list[object] = []

    def checked_out(*args: object) -> None:
        checkouts.append(args)

    event.listen(engine, "checkout", checked_out)
    try:
        me = await cached_kiosk.get("/v1/me", headers=jeanne)
        assert me.status_code == 200, me.text
        assert me.json()["name"] == "Jeanne Martin"
        assert checkouts == []
        changed = await cached_kiosk.patch(
            "/v1/me/settings", headers=jeanne, json={"language": "en"}
        )
        assert changed.status_code == 200, changed.text
        assert len(checkouts) == 1
    finally:
        event.remove(engine, "checkout", checked_out)
    assert (await cached_kiosk.get("/v1/me", headers=jeanne)).json()["language"] == "en"
    assert (await cached_kiosk.get("/v1/me/settings", headers=jeanne)).json()["language"] == "en"
