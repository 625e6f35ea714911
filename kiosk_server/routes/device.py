from __future__ import annotations

from fastapi import APIRouter

from kiosk_server.deps import CurrentDevice
from kiosk_server.problems import problem_responses
from kiosk_server.schemas import DeviceInfo
from kiosk_server.services.devices import describe

router = APIRouter(tags=["device"])


@router.get("/device", responses=problem_responses("device-key-missing", "device-key-invalid"))
async def get_device(device: CurrentDevice) -> DeviceInfo:
    """The device making the request and the sites it serves."""
    return describe(device)
