"""Support for the terminal's visit tests: people of the site, a client per person to prepare
visits through the real service, and signing in on the kiosk as a person would."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from textual.pilot import Pilot

from kiosk.api.client import KioskClient
from kiosk.api.models import VisitDetail, VisitorInput
from kiosk.screens.home import HomeScreen
from kiosk_server.models import Site
from tests.conftest import BASE_URL
from tests.factories import Factory
from tests.terminal.conftest import PIN, settle, type_text

DAY = dt.date(2026, 11, 2)
"""The clock of the tests' service starts at 09:00 UTC on this day, 10:00 in Paris."""


@dataclass
class Staff:
    """A host and a reception person signed in through their own API clients."""

    host: KioskClient
    desk: KioskClient

    async def visit(
        self,
        first_name: str,
        last_name: str,
        company: str = "ACME",
        *,
        submit: bool = True,
        approve: bool = False,
        check_in: bool = False,
    ) -> VisitDetail:
        """A visit today, 14:00–15:00, for one visitor."""
        visit = await self.host.create_visit(
            [
                VisitorInput(
                    first_name=first_name,
                    last_name=last_name,
                    company=company,
                    email=f"{last_name.lower()[:8].strip('[]@=')}x@example.com",
                )
            ],
            first_day=DAY,
            arrival_from=dt.time(9),
            arrival_until=dt.time(15),
            reason="Réunion",
            submit=submit,
        )
        if approve:
            visit = await self.desk.approve_visit(visit.id)
        if check_in:
            await self.desk.reception_check_in(visit.visitors[0].id)
        return visit


@pytest.fixture
async def staff(service_app: FastAPI, factory: Factory, site: Site) -> AsyncIterator[Staff]:
    """Hélène Girard (H1, a host) and Rémi Accueil (R1, reception), each signed in on a
    terminal of their own; the kiosk under test signs in as either of them."""
    await factory.account(site, "H1", name="Hélène Girard", pin=PIN)
    await factory.account(site, "R1", name="Rémi Accueil", pin=PIN, roles=["reception"])

    async def client() -> KioskClient:
        device = await factory.device([site], name="Bureau")
        transport = httpx.ASGITransport(app=service_app, raise_app_exceptions=False)
        return KioskClient(BASE_URL, device.key, transport=transport)

    host, desk = await client(), await client()
    async with host, desk:
        await host.sign_in(site.code, "H1", PIN)
        await desk.sign_in(site.code, "R1", PIN)
        yield Staff(host=host, desk=desk)


async def sign_in(pilot: Pilot[Any], identifier: str) -> None:
    """From the welcome screen to home, as `identifier` with the tests' PIN."""
    await settle(pilot)
    await pilot.press("enter")
    await type_text(pilot, identifier)
    await pilot.press("enter")
    await settle(pilot)
    await type_text(pilot, PIN)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, HomeScreen)
