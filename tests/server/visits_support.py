"""Support for the visit tests: a host and a reception person signed in on terminals, visit
bodies, the site's clock in local time, and invitations read as a visitor reads their mail."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import httpx
import numpy as np
import pytest
import zxingcpp
from fastapi import FastAPI
from sqlalchemy import select

from kiosk_server.clock import ManualClock
from kiosk_server.models import AuditLogEntry, Site, Visit, VisitVisitor
from kiosk_server.services.invitations import token_for
from tests.conftest import device_client
from tests.factories import EnrolledDevice, Factory
from tests.server.conftest import PIN, bearer, sign_in

PARIS = ZoneInfo("Europe/Paris")
DAY = dt.date(2026, 11, 2)
"""The tests' day (a Monday); the clock starts at 09:00 UTC, 10:00 in Paris."""
CODE_IN_MESSAGE = re.compile(r"code ([2-9A-HJ-NP-Z]{6})\b")


def set_local(clock: ManualClock, day: dt.date, time: str) -> None:
    """Put the clock at `time` (HH:MM) on `day`, Paris time."""
    hours, minutes = (int(part) for part in time.split(":"))
    clock.set(dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=PARIS).astimezone(dt.UTC))


def visitor(
    first_name: str = "Léa",
    last_name: str = "Dupont",
    *,
    company: str = "ACME",
    email: str | None = "lea@example.com",
    phone: str | None = None,
) -> dict[str, Any]:
    return {
        "first_name": first_name,
        "last_name": last_name,
        "company": company,
        "email": email,
        "phone": phone,
    }


def visit_body(**overrides: Any) -> dict[str, Any]:
    """A one-visitor visit today between 14:00 and 15:00, as a draft."""
    body: dict[str, Any] = {
        "visitors": [visitor()],
        "first_day": DAY.isoformat(),
        "arrival_from": "14:00",
        "arrival_until": "15:00",
        "reason": "Réunion projet",
        "place": "Bâtiment B, salle 2",
        "submit": False,
    }
    body.update(overrides)
    return body


@dataclass
class People:
    """A host and a reception person, signed in on their own terminals."""

    host: httpx.AsyncClient
    desk: httpx.AsyncClient
    kiosk: httpx.AsyncClient
    """The visitor kiosk: the hall terminal, nobody signed in."""
    host_headers: dict[str, str]
    desk_headers: dict[str, str]

    async def sign_in_again(self) -> None:
        """New sessions for host and reception (after the clock moved past their end)."""
        self.host_headers = await signed_in(self.host, "H1")
        self.desk_headers = await signed_in(self.desk, "R1")

    async def create(self, **overrides: Any) -> dict[str, Any]:
        answer = await self.host.post(
            "/v1/me/visits", json=visit_body(**overrides), headers=self.host_headers
        )
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    async def approved(self, **overrides: Any) -> dict[str, Any]:
        """A visit submitted by the host and approved by reception."""
        created = await self.create(submit=True, **overrides)
        assert created["state"] == "requested"
        approved = await self.desk_post(f"/v1/reception/visits/{created['id']}/approve")
        assert approved.status_code == 200, approved.text
        body: dict[str, Any] = approved.json()
        return body

    async def host_post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.host.post(path, headers=self.host_headers, **kwargs)

    async def desk_post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.desk.post(path, headers=self.desk_headers, **kwargs)

    async def desk_get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.desk.get(path, headers=self.desk_headers, **kwargs)


async def signed_in(client: httpx.AsyncClient, identifier: str) -> dict[str, str]:
    answer = await sign_in(client, identifier, PIN)
    assert answer.status_code == 201, answer.text
    return bearer(answer.json()["token"])


async def set_site_settings(factory: Factory, site: Site, **values: Any) -> None:
    """Change some of the site's policies (the others keep theirs)."""
    async with factory.session_factory() as session:
        mine = await session.get(Site, site.id)
        assert mine is not None
        mine.settings = {**(mine.settings or {}), **values}
        await session.commit()


@pytest.fixture(name="people")
async def people_fixture(
    service_app: FastAPI,
    factory: Factory,
    site: Site,
    terminal: EnrolledDevice,
    clock: ManualClock,
) -> AsyncIterator[People]:
    """A host (Hélène Girard) and a reception person (Rémi Accueil) signed in on their own
    terminals, and the hall kiosk; the clock at 10:00 on `DAY`, Paris time. Test modules
    import this fixture."""
    set_local(clock, DAY, "10:00")
    # Sessions that outlast the hours and days the tests move the clock through.
    await set_site_settings(factory, site, session_minutes=60 * 24 * 60)
    await factory.account(site, "H1", name="Hélène Girard", email="helene@example.com", pin=PIN)
    await factory.account(
        site, "R1", name="Rémi Accueil", email="accueil@example.com", pin=PIN, roles=["reception"]
    )
    host_terminal = await factory.device([site], name="Bureau 12")
    desk_terminal = await factory.device([site], name="Accueil")
    async with (
        device_client(service_app, host_terminal.key) as host,
        device_client(service_app, desk_terminal.key) as desk,
        device_client(service_app, terminal.key) as kiosk,
    ):
        yield People(
            host=host,
            desk=desk,
            kiosk=kiosk,
            host_headers=await signed_in(host, "H1"),
            desk_headers=await signed_in(desk, "R1"),
        )


async def invitation_token(factory: Factory, visitor_id: int) -> str:
    """The visitor's invitation token, as the QR in their email carries it."""
    async with factory.session_factory() as session:
        visitor_row = await session.get(VisitVisitor, visitor_id)
        assert visitor_row is not None
        visit = await session.get(Visit, visitor_row.visit_id)
        assert visit is not None
        site = await session.get(Site, visit.site_id)
        assert site is not None
        return token_for(site, visitor_row, visit)


async def invitation_code(factory: Factory, recipient: str) -> str:
    """The short code in the newest message to `recipient`."""
    messages = await factory.outbox(recipient)
    assert messages, f"no message to {recipient}"
    match = CODE_IN_MESSAGE.search(messages[-1].body)
    assert match, messages[-1].body
    return match.group(1)


def decode_qr_png(png: bytes) -> str:
    """The text of the QR in a PNG image, read as a scanner reads it."""
    image = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    (found,) = zxingcpp.read_barcodes(image)
    return str(found.text)


def attachment_png(encoded: str) -> bytes:
    return base64.b64decode(encoded)


async def audit_rows(factory: Factory) -> list[AuditLogEntry]:
    async with factory.session_factory() as session:
        return list((await session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id))).all())
