from __future__ import annotations

from fastapi import APIRouter

from kiosk_server.deps import ClockDep, CurrentDevice, DbSession
from kiosk_server.problems import ProblemError, problem_responses
from kiosk_server.routes import API
from kiosk_server.schemas import DeviceInfo
from kiosk_server.schemas_visits import DeviceRollCalls
from kiosk_server.services import reception
from kiosk_server.services.devices import describe

router = APIRouter(prefix=API, tags=["device"])


@router.get("/device", responses=problem_responses("device-key-missing", "device-key-invalid"))
async def get_device(device: CurrentDevice) -> DeviceInfo:
    """The device making the request and the sites it serves."""
    return describe(device)


@router.get(
    "/device/roll-call",
    responses=problem_responses(
        "device-key-missing", "device-key-invalid", "device-role-forbidden"
    ),
)
async def device_roll_call(
    session: DbSession, device: CurrentDevice, clock: ClockDep
) -> DeviceRollCalls:
    """The roll call of each site the device serves, without anyone signed in: for a device
    enrolled to keep it (`roll_call` in `GET /v1/device`; `kiosk-server terminals enrol
    --roll-call`): a reception terminal refreshing its local copy, `kiosk roll-call` over SSH.
    Any other device is refused with `device-role-forbidden`."""
    if not device.roll_call:
        raise ProblemError(
            "device-role-forbidden", "This device is not enrolled to keep the roll call."
        )
    now = clock.now()
    sites = sorted(device.sites, key=lambda site: site.code)
    return DeviceRollCalls(
        roll_calls=[await reception.roll_call(session, site=site, now=now) for site in sites]
    )
