"""Support for the online top-up tests: a site with the sandbox on, a signed-in person, and a
webhook outbox that stands where the sandbox's HTTP delivery is, so a test can deliver each
webhook through the app at once, hold it back, deliver it twice or late."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from kiosk_server.models import Account, SandboxPayment, Site
from kiosk_server.payments import provider_for
from kiosk_server.payments.sandbox import SandboxProvider, SignedWebhook
from tests.conftest import BASE_URL
from tests.factories import Factory
from tests.server.conftest import PIN, bearer, sign_in

SANDBOX_SETTINGS: dict[str, Any] = {
    "sandbox_payments": True,
    "top_up_min_cents": 500,
    "top_up_max_cents": 20000,
    "top_up_presets_cents": [1000, 2000, 5000],
}


class WebhookOutbox:
    """Takes the sandbox's webhooks in place of HTTP. With `hold` false (the default) each one
    is delivered to the app at once, as the network would; held ones wait in `held`."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.sent: list[SignedWebhook] = []
        self.held: list[SignedWebhook] = []
        self.answers: list[httpx.Response] = []
        self.hold = False

    async def __call__(self, webhook: SignedWebhook) -> None:
        self.sent.append(webhook)
        if self.hold:
            self.held.append(webhook)
        else:
            self.answers.append(await self.deliver(webhook))

    async def deliver(
        self, webhook: SignedWebhook, *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """POST the webhook to the app, as sent (or with other headers)."""
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            return await client.post(
                urlsplit(webhook.url).path,
                content=webhook.body,
                headers=webhook.headers if headers is None else headers,
            )


def sandbox_site_fixture(settings: dict[str, Any] | None = None) -> Any:
    """A `site` fixture (overriding the default one) with the sandbox on."""

    @pytest.fixture(name="site")
    async def site(factory: Factory) -> Site:
        return await factory.site("CANTINE", settings=dict(settings or SANDBOX_SETTINGS))

    return site


def webhooks_fixture() -> Any:
    """A `webhooks` fixture: the app's sandbox delivers to a `WebhookOutbox`; its secret is
    generated in a data directory of the test's own."""

    @pytest.fixture(name="webhooks")
    async def webhooks(
        api: httpx.AsyncClient,
        service_app: FastAPI,
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
    ) -> AsyncIterator[WebhookOutbox]:
        monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "data"))
        outbox = WebhookOutbox(service_app)
        service_app.state.sandbox_webhook_sender = outbox
        yield outbox

    return webhooks


def jeanne_fixture() -> Any:
    """A `jeanne` fixture: an active account with 10.00 on it."""

    @pytest.fixture(name="jeanne")
    async def jeanne(factory: Factory, site: Site) -> Account:
        account = await factory.account(site, "1001", name="Jeanne Martin", pin=PIN)
        await factory.ledger_entry(account, 1000)
        return account

    return jeanne


def person_fixture() -> Any:
    """A `person` fixture: the bearer header of Jeanne signed in on the terminal."""

    @pytest.fixture(name="person")
    async def person(kiosk: httpx.AsyncClient, jeanne: Account) -> dict[str, str]:
        signed_in = await sign_in(kiosk, "1001", PIN)
        assert signed_in.status_code == 201, signed_in.text
        return bearer(signed_in.json()["token"])

    return person


def new_key() -> str:
    return str(uuid.uuid4())


async def start(
    kiosk: httpx.AsyncClient, person: dict[str, str], amount_cents: int, key: str | None = None
) -> httpx.Response:
    return await kiosk.post(
        "/v1/me/top-ups",
        json={"amount_cents": amount_cents},
        headers={**person, "Idempotency-Key": key or new_key()},
    )


async def started(kiosk: httpx.AsyncClient, person: dict[str, str], amount_cents: int) -> Any:
    answer = await start(kiosk, person, amount_cents)
    assert answer.status_code == 201, answer.text
    return answer.json()


def page_path(top_up: dict[str, Any]) -> str:
    """The path of the checkout page the top-up's QR leads to."""
    url = urlsplit(str(top_up["checkout_url"]))
    assert f"{url.scheme}://{url.netloc}" == BASE_URL
    return url.path


async def press(api: httpx.AsyncClient, top_up: dict[str, Any], button: str) -> httpx.Response:
    """Press Pay or Decline on the checkout page, as the phone's browser posts the form."""
    answer = await api.post(
        f"{page_path(top_up)}/{button}",
        content=b"",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == page_path(top_up)
    return answer


async def cancel(
    kiosk: httpx.AsyncClient, person: dict[str, str], top_up_id: int, key: str | None = None
) -> httpx.Response:
    return await kiosk.post(
        f"/v1/me/top-ups/{top_up_id}/cancel",
        headers={**person, "Idempotency-Key": key or new_key()},
    )


async def top_up_state(
    kiosk: httpx.AsyncClient, person: dict[str, str], top_up_id: int
) -> dict[str, Any]:
    answer = await kiosk.get(f"/v1/me/top-ups/{top_up_id}", headers=person)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def balance(kiosk: httpx.AsyncClient, person: dict[str, str]) -> int:
    me = await kiosk.get("/v1/me", headers=person)
    assert me.status_code == 200, me.text
    amount: int = me.json()["balance"]["amount_cents"]
    return amount


async def top_up_tickets(kiosk: httpx.AsyncClient, person: dict[str, str]) -> list[Any]:
    page = await kiosk.get("/v1/me/tickets", headers=person)
    assert page.status_code == 200, page.text
    return [t for t in page.json()["items"] if t["kind"] == "top_up"]


async def sandbox_payment_count(factory: Factory) -> int:
    async with factory.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(SandboxPayment)) or 0)


def secret_of(app: FastAPI) -> bytes:
    provider = provider_for(app)
    assert isinstance(provider, SandboxProvider)
    return provider.webhook_secret()
