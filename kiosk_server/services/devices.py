"""Devices (terminals, tills, doors, kitchen screens) and the sites they serve."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from kiosk_server import schemas
from kiosk_server.models import Device, Site
from kiosk_server.problems import ProblemError
from kiosk_server.security import sha256_hex


async def device_by_key(session: AsyncSession, key: str) -> Device | None:
    """The enrolled, unrevoked device with this key, its sites loaded; None otherwise."""
    # One round trip (a join) rather than `selectinload`'s two: this runs on every request.
    device = (
        (
            await session.scalars(
                select(Device)
                .where(Device.key_hash == sha256_hex(key))
                .options(joinedload(Device.sites))
            )
        )
        .unique()
        .one_or_none()
    )
    if device is None or device.revoked_at is not None:
        return None
    return device


class DeviceCache:
    """Enrolled devices by key hash, kept for a few seconds in each worker process.

    Every request looks its device up, and nearly all of them come from the same few
    terminals, tills and kitchen screens: reading the device and its sites again each time was
    a sixth of a till purchase's CPU. A cached device is a detached ORM object with its sites
    loaded, shared by the requests of its worker: read it, never change it or add it to a
    session. What an admin changes (a revoked key, a site's settings, the sites a device
    serves) reaches each worker within `seconds`; `seconds=0` turns the cache off. Only devices
    found are kept: a key enrolled a moment ago works at once, and unknown keys cost no memory.
    Cache only devices taken out of their session (`detach`).
    """

    def __init__(self, seconds: float, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._monotonic = monotonic
        self._entries: dict[str, tuple[float, Device]] = {}

    def get(self, key_hash: str) -> Device | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        until, device = entry
        if self._monotonic() >= until:
            del self._entries[key_hash]
            return None
        return device

    def put(self, key_hash: str, device: Device) -> None:
        if self.seconds > 0:
            self._entries[key_hash] = (self._monotonic() + self.seconds, device)


def detach(session: AsyncSession, device: Device) -> None:
    """Take a device just read, and its sites, out of the session, to be used read-only from
    then on (and kept in the `DeviceCache`). A session's rollback expires every object it
    holds: a refused request would otherwise leave the cached device and its sites unreadable
    to every request after it."""
    for site in device.sites:
        session.expunge(site)
    session.expunge(device)


def site_for_code(device: Device, solution_code: str) -> Site:
    """The site a request names, looked up among the device's sites only: a site the device
    does not serve is answered exactly as one that does not exist."""
    wanted = solution_code.strip().upper()
    for site in device.sites:
        if site.code == wanted:
            return site
    raise ProblemError("solution-unknown", "No such solution on this terminal.")


def site_by_id(device: Device, site_id: int) -> Site | None:
    return next((site for site in device.sites if site.id == site_id), None)


def describe(device: Device) -> schemas.DeviceInfo:
    sites = sorted(device.sites, key=lambda site: site.code)
    return schemas.DeviceInfo.model_validate(
        {
            "id": device.id,
            "name": device.name,
            "role": device.role,
            "roll_call": device.roll_call,
            "sites": [
                {"code": site.code, "name": site.name, "time_zone": site.time_zone}
                for site in sites
            ],
        }
    )
