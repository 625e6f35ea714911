"""Enrolling, listing and revoking devices (terminals, tills, doors, kitchen screens)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from kiosk_server.admin import AdminError
from kiosk_server.admin.sites import get_site
from kiosk_server.fields import forbidden_character
from kiosk_server.models import Device, Site
from kiosk_server.security import new_token, sha256_hex

DEVICE_ROLES = ("terminal", "till", "door", "kitchen")


@dataclass(frozen=True)
class EnrolledDevice:
    """A new device and its key. The key exists only here: the database keeps its SHA-256."""

    id: int
    name: str
    role: str
    site_codes: list[str]
    key: str


@dataclass(frozen=True)
class DeviceListing:
    """One line of `kiosk-server terminals list`."""

    id: int
    name: str
    role: str
    site_codes: list[str]
    created_at: dt.datetime
    revoked_at: dt.datetime | None


async def enrol_device(
    session: AsyncSession,
    *,
    name: str,
    role: str,
    site_codes: list[str],
    now: dt.datetime,
    roll_call: bool = False,
) -> EnrolledDevice:
    """Enrol a device for one site or a few (flushed, not committed); `roll_call`: it may read
    its sites' roll call without anyone signed in (a terminal only)."""
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 100 or forbidden_character(cleaned) is not None:
        raise AdminError("the device name must be 1 to 100 characters, without control characters")
    if role not in DEVICE_ROLES:
        raise AdminError(f"unknown device role {role!r} (roles: {', '.join(DEVICE_ROLES)})")
    if not site_codes:
        raise AdminError("a device serves at least one site (--site CODE)")
    sites: list[Site] = []
    for code in site_codes:
        site = await get_site(session, code)
        if site not in sites:
            sites.append(site)
    if roll_call and role != "terminal":
        raise AdminError("only a terminal keeps the roll call (--roll-call)")
    key = new_token()
    device = Device(
        name=cleaned,
        role=role,
        key_hash=sha256_hex(key),
        created_at=now,
        revoked_at=None,
        roll_call=roll_call,
    )
    device.sites = sites
    session.add(device)
    await session.flush()
    return EnrolledDevice(
        id=device.id, name=device.name, role=role, site_codes=[s.code for s in sites], key=key
    )


async def list_devices(session: AsyncSession) -> list[DeviceListing]:
    """Every device, revoked ones included, oldest first."""
    devices = await session.scalars(
        select(Device).options(selectinload(Device.sites)).order_by(Device.id)
    )
    return [
        DeviceListing(
            id=device.id,
            name=device.name,
            role=device.role,
            site_codes=sorted(site.code for site in device.sites),
            created_at=device.created_at,
            revoked_at=device.revoked_at,
        )
        for device in devices
    ]


async def set_roll_call(session: AsyncSession, *, device_id: int, keeps: bool) -> Device:
    """Let a terminal read its sites' roll call without anyone signed in, or stop it (flushed,
    not committed). Takes effect within the service's device cache time."""
    device = await session.get(Device, device_id)
    if device is None:
        raise AdminError(f"no device with id {device_id}")
    if device.role != "terminal":
        raise AdminError(
            f"device {device_id} is a {device.role}: only a terminal keeps the roll call"
        )
    device.roll_call = keeps
    await session.flush()
    return device


async def revoke_device(session: AsyncSession, *, device_id: int, now: dt.datetime) -> Device:
    """Revoke a device: its key stops working at once (flushed, not committed)."""
    device = await session.get(Device, device_id)
    if device is None:
        raise AdminError(f"no device with id {device_id}")
    if device.revoked_at is not None:
        raise AdminError(f"device {device_id} is already revoked")
    device.revoked_at = now
    await session.flush()
    return device
