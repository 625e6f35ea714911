"""The typed client's badge and connect calls against the real service (ASGI, on a database of
its own)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from kiosk.api import KioskClient, ProblemError
from kiosk.api.models import BadgeToken, Connected, SiteRef
from kiosk_server.admin.accounts import connect_letters
from kiosk_server.clock import ManualClock
from kiosk_server.models import Site
from tests.conftest import BASE_URL, device_client
from tests.factories import EnrolledDevice, Factory

PIN = "246810"


@pytest.fixture
async def site(factory: Factory) -> Site:
    return await factory.site("CANTINE", name="Cantine Lumière")


@pytest.fixture
async def terminal(factory: Factory, site: Site) -> EnrolledDevice:
    return await factory.device([site], name="Borne hall")


@pytest.fixture
async def client(
    service_app: FastAPI, api: httpx.AsyncClient, terminal: EnrolledDevice
) -> AsyncIterator[KioskClient]:
    transport = httpx.ASGITransport(app=service_app, raise_app_exceptions=False)
    async with KioskClient(BASE_URL, terminal.key, transport=transport) as c:
        yield c


async def test_badge_is_typed_and_verifies_at_a_door(
    client: KioskClient,
    service_app: FastAPI,
    factory: Factory,
    site: Site,
    clock: ManualClock,
) -> None:
    await factory.account(site, "1001", name="Alice Martin", pin=PIN)
    await client.sign_in("CANTINE", "1001", PIN)

    badge = await client.badge()

    assert isinstance(badge, BadgeToken)
    assert badge.name == "Alice Martin"
    assert badge.site == SiteRef(code="CANTINE", name="Cantine Lumière")
    assert badge.step_seconds == 30
    assert clock.now() < badge.refresh_at < badge.valid_until
    assert badge.valid_until - badge.refresh_at == dt.timedelta(seconds=30)
    assert badge.token not in repr(badge)
    door = await factory.device([site], role="door", name="Porte")
    async with device_client(service_app, door.key) as door_client:
        checked = await door_client.post("/v1/badges/verify", json={"token": badge.token})
    assert checked.json()["name"] == "Alice Martin"


async def test_badge_without_a_session_is_a_typed_problem(client: KioskClient) -> None:
    with pytest.raises(ProblemError) as caught:
        await client.badge()
    assert caught.value.code == "session-missing"


async def test_connect_gives_what_to_ask_next(
    client: KioskClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "1002", name="Bruno Lefèvre")
    async with factory.session_factory() as session:
        (letter,) = await connect_letters(session, site_code="CANTINE", identifiers=["1002"])

    connected = await client.connect(letter.token)

    assert connected == Connected(
        solution_code="CANTINE",
        identifier="1002",
        account_state="pending_activation",
        site=SiteRef(code="CANTINE", name="Cantine Lumière"),
    )
    assert not client.has_session


async def test_connect_refusals_are_typed_problems(client: KioskClient) -> None:
    with pytest.raises(ProblemError) as caught:
        await client.connect("https://example.com/not-a-letter")
    assert caught.value.code == "connect-malformed"
    assert caught.value.status == 400
