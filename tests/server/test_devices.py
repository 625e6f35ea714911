"""Device credentials and the sites a device may name."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from kiosk_server.models import Site
from tests.conftest import device_client
from tests.factories import EnrolledDevice, Factory
from tests.server.conftest import assert_problem, identify


async def test_health_needs_no_credentials(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_device_describes_itself_and_its_sites(
    kiosk: httpx.AsyncClient, terminal: EnrolledDevice
) -> None:
    response = await kiosk.get("/v1/device")
    assert response.status_code == 200
    assert response.json() == {
        "id": terminal.id,
        "name": "Borne hall",
        "role": "terminal",
        "sites": [{"code": "CANTINE", "name": "Cantine Lumière", "time_zone": "Europe/Paris"}],
        "roll_call": False,
    }


async def test_missing_unknown_and_revoked_keys(
    api: httpx.AsyncClient, service_app: FastAPI, factory: Factory, site: Site
) -> None:
    assert_problem(await api.get("/v1/device"), 401, "device-key-missing")
    assert_problem(
        await api.get("/v1/device", headers={"X-Device-Key": "not-a-key"}),
        401,
        "device-key-invalid",
    )
    revoked = await factory.device([site], revoked=True)
    async with device_client(service_app, revoked.key) as client:
        assert_problem(await client.get("/v1/device"), 401, "device-key-invalid")
        assert_problem(await identify(client, "E1"), 401, "device-key-invalid")


async def test_site_not_served_is_answered_as_unknown(
    kiosk: httpx.AsyncClient, factory: Factory
) -> None:
    elsewhere = await factory.site("AILLEURS", name="Autre site")
    await factory.account(elsewhere, "E1")
    not_served = assert_problem(await identify(kiosk, "E1", "AILLEURS"), 404, "solution-unknown")
    unknown = assert_problem(await identify(kiosk, "E1", "NOWHERE"), 404, "solution-unknown")
    assert {**not_served, "instance": None} == {**unknown, "instance": None}


async def test_a_device_serving_several_sites_picks_by_solution_code(
    service_app: FastAPI, factory: Factory, site: Site
) -> None:
    second = await factory.site("SIEGE", name="Siège")
    await factory.account(second, "S1", pin="415926")
    device = await factory.device([site, second])
    async with device_client(service_app, device.key) as client:
        described = (await client.get("/v1/device")).json()
        assert [s["code"] for s in described["sites"]] == ["CANTINE", "SIEGE"]
        assert (await identify(client, "S1", "siege")).json()["site"]["name"] == "Siège"
        # The identifier exists only on the other site.
        assert_problem(await identify(client, "S1", "CANTINE"), 404, "account-unknown")


async def test_other_roles_may_not_sign_people_in(
    service_app: FastAPI, factory: Factory, site: Site
) -> None:
    door = await factory.device([site], role="door")
    async with device_client(service_app, door.key) as client:
        assert (await client.get("/v1/device")).json()["role"] == "door"
        assert_problem(await identify(client, "E1"), 403, "device-role-forbidden")
