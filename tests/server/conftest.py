"""Fixtures of the service tests: a site, a terminal and a till enrolled for it, clients as
them, and a funded account."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from kiosk_server.models import Account, Site
from tests.conftest import device_client
from tests.factories import EnrolledDevice, Factory

PIN = "415926"
"""The PIN of the active accounts the tests create."""


@pytest.fixture
async def site(factory: Factory) -> Site:
    return await factory.site("CANTINE")


@pytest.fixture
async def terminal(factory: Factory, site: Site) -> EnrolledDevice:
    return await factory.device([site], name="Borne hall")


@pytest.fixture
async def kiosk(service_app: FastAPI, terminal: EnrolledDevice) -> AsyncIterator[httpx.AsyncClient]:
    """A client speaking as the enrolled terminal."""
    async with device_client(service_app, terminal.key) as client:
        yield client


@pytest.fixture
async def till_device(factory: Factory, site: Site) -> EnrolledDevice:
    """A till enrolled for the site."""
    return await factory.device([site], role="till", name="Caisse 1")


@pytest.fixture
async def till(
    service_app: FastAPI, till_device: EnrolledDevice
) -> AsyncIterator[httpx.AsyncClient]:
    async with device_client(service_app, till_device.key) as client:
        yield client


@pytest.fixture
async def jeanne(factory: Factory, site: Site) -> Account:
    """An active account holding 20.00."""
    account = await factory.account(site, "1001", name="Jeanne Martin", pin=PIN)
    await factory.ledger_entry(account, 2000)
    return account


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    """The answer is a problem document with this status and code; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["code"] == code
    assert body["type"] == f"/problems/{code}"
    assert body["status"] == status
    return body


async def send_code(
    kiosk: httpx.AsyncClient, identifier: str, purpose: str = "activate", solution: str = "CANTINE"
) -> httpx.Response:
    return await kiosk.post(
        "/v1/auth/verification-codes",
        json={"solution_code": solution, "identifier": identifier, "purpose": purpose},
    )


async def check_code(
    kiosk: httpx.AsyncClient, identifier: str, code: str, solution: str = "CANTINE"
) -> httpx.Response:
    return await kiosk.post(
        "/v1/auth/verification-codes/check",
        json={"solution_code": solution, "identifier": identifier, "code": code},
    )


async def sign_in(
    kiosk: httpx.AsyncClient, identifier: str, pin: str, solution: str = "CANTINE"
) -> httpx.Response:
    return await kiosk.post(
        "/v1/auth/sessions",
        json={"solution_code": solution, "identifier": identifier, "pin": pin},
    )


async def identify(
    kiosk: httpx.AsyncClient, identifier: str, solution: str = "CANTINE"
) -> httpx.Response:
    return await kiosk.post(
        "/v1/auth/identify", json={"solution_code": solution, "identifier": identifier}
    )


async def choose_pin_by_code(
    kiosk: httpx.AsyncClient,
    factory: Factory,
    identifier: str,
    recipient: str,
    pin: str,
    purpose: str = "activate",
) -> dict[str, object]:
    """The whole verification code path: send, read the message, check, choose the PIN."""
    sent = await send_code(kiosk, identifier, purpose)
    assert sent.status_code == 202, sent.text
    checked = await check_code(kiosk, identifier, await factory.last_code(recipient))
    assert checked.status_code == 200, checked.text
    chosen = await kiosk.post(
        "/v1/auth/pin", json={"pin_setup_token": checked.json()["pin_setup_token"], "pin": pin}
    )
    assert chosen.status_code == 201, chosen.text
    session: dict[str, object] = chosen.json()
    return session


def bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
