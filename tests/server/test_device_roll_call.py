"""The roll call read by a device enrolled to keep it, without anyone signed in: a reception
terminal's background copy and `kiosk roll-call` over SSH use it; other devices are refused."""

from __future__ import annotations

from fastapi import FastAPI

from kiosk_server.clock import ManualClock
from kiosk_server.models import Site
from tests.conftest import device_client
from tests.factories import Factory
from tests.server.conftest import assert_problem
from tests.server.visits_support import (
    DAY,
    People,
    people_fixture,  # noqa: F401 - the `people` fixture
    set_local,
    visitor,
)


async def test_a_roll_call_device_reads_each_sites_roll_call(
    people: People, service_app: FastAPI, factory: Factory, site: Site, clock: ManualClock
) -> None:
    other = await factory.site("NORD", name="Site Nord")
    keeper = await factory.device([site, other], name="Accueil", roll_call=True)
    plain = await factory.device([site], name="Borne")
    visit = await people.approved(visitors=[visitor("Anne", "Martin")])
    set_local(clock, DAY, "10:30")
    answer = await people.desk_post(f"/v1/reception/visitors/{visit['visitors'][0]['id']}/check-in")
    assert answer.status_code == 200, answer.text

    async with device_client(service_app, keeper.key) as client:
        assert (await client.get("/v1/device")).json()["roll_call"] is True
        calls = (await client.get("/v1/device/roll-call")).json()["roll_calls"]
    assert [call["site"]["code"] for call in calls] == ["CANTINE", "NORD"]
    assert [p["last_name"] for p in calls[0]["people"]] == ["Martin"]
    assert calls[0]["people"][0]["host_name"] == "Hélène Girard"
    assert calls[1]["people"] == []

    async with device_client(service_app, plain.key) as client:
        assert (await client.get("/v1/device")).json()["roll_call"] is False
        refused = await client.get("/v1/device/roll-call")
    assert_problem(refused, 403, "device-role-forbidden")
    # The hall kiosk, with a person signed in, still cannot: this is the device's right.
    assert_problem(
        await people.desk.get("/v1/device/roll-call", headers=people.desk_headers),
        403,
        "device-role-forbidden",
    )
