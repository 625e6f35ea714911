"""The typed client against the real service (ASGI, on a database of its own), and against real
sockets that fail the way networks and proxies do."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from fastapi import FastAPI

from kiosk.api import (
    DeviceInfo,
    Identity,
    KioskClient,
    Me,
    Money,
    ProblemError,
    ServiceUnavailable,
)
from kiosk.api.client import tls_context
from kiosk.session import KioskSession
from kiosk_server.models import Site
from tests.conftest import BASE_URL
from tests.factories import EnrolledDevice, Factory

ALICE_PIN = "246810"


class CountingTransport(httpx.AsyncBaseTransport):
    """A real transport that counts the requests it was asked to send (retries show up here)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class UnpluggableTransport(httpx.AsyncBaseTransport):
    """The service until `unplug()`, then a closed loopback port: the network going away."""

    def __init__(self, service: httpx.AsyncBaseTransport, closed_port: int) -> None:
        self.service = service
        self.closed_port = closed_port
        self.unplugged = False
        self.nowhere = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.unplugged:
            return await self.service.handle_async_request(request)
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.closed_port)
        return await self.nowhere.handle_async_request(request)

    async def aclose(self) -> None:
        await self.nowhere.aclose()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections (the kernel does) but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


class ProxyPage(BaseHTTPRequestHandler):
    """Answers as a misconfigured proxy or another program would: not the service's contract."""

    def do_GET(self) -> None:
        if self.path == "/v1/health":
            self._answer(502, "text/html", b"<html>Bad Gateway</html>")
        elif self.path == "/v1/device":
            self._answer(404, "text/html", b"<html>Not Found</html>")
        else:
            self._answer(200, "application/json", b'{"identifier": 42}')

    def _answer(self, status: int, media_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ProxyPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
async def site(factory: Factory) -> Site:
    return await factory.site("CANTINE", name="Cantine Lumière")


@pytest.fixture
async def terminal(factory: Factory, site: Site) -> EnrolledDevice:
    return await factory.device([site], name="Borne hall")


def service_transport(app: FastAPI) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=app, raise_app_exceptions=False)


@pytest.fixture
async def client(
    service_app: FastAPI, api: httpx.AsyncClient, terminal: EnrolledDevice
) -> AsyncIterator[KioskClient]:
    # `api` runs the app's lifespan for the length of the test.
    async with KioskClient(BASE_URL, terminal.key, transport=service_transport(service_app)) as c:
        yield c


async def test_health_and_device_are_typed(client: KioskClient, terminal: EnrolledDevice) -> None:
    assert (await client.health()).status == "ok"

    device = await client.device()

    assert isinstance(device, DeviceInfo)
    assert device.id == terminal.id
    assert device.name == "Borne hall"
    assert device.role == "terminal"
    assert [(s.code, s.name) for s in device.sites] == [("CANTINE", "Cantine Lumière")]


async def test_wrong_device_key_is_a_typed_problem(
    service_app: FastAPI, api: httpx.AsyncClient, terminal: EnrolledDevice
) -> None:
    async with KioskClient(
        BASE_URL, "not-a-key", transport=service_transport(service_app)
    ) as client:
        with pytest.raises(ProblemError) as caught:
            await client.device()

    assert caught.value.code == "device-key-invalid"
    assert caught.value.status == 401


async def test_sign_in_gives_me_with_the_balance_then_sign_out_ends_the_session(
    client: KioskClient, factory: Factory, site: Site
) -> None:
    alice = await factory.account(site, "1001", name="Alice Martin", pin=ALICE_PIN)
    await factory.ledger_entry(alice, 1250)

    identity = await client.identify("cantine", " 1001 ")
    me = await client.sign_in("CANTINE", "1001", ALICE_PIN)

    assert identity == Identity.model_validate(
        {"account_state": "active", "site": {"code": "CANTINE", "name": "Cantine Lumière"}}
    )
    assert isinstance(me, Me)
    assert me.name == "Alice Martin"
    assert me.balance == Money(amount_cents=1250, currency="EUR")
    assert (me.site.code, me.site.currency, me.site.locale) == ("CANTINE", "EUR", "fr_FR")
    assert client.has_session
    assert await client.me() == me

    await client.sign_out()

    assert not client.has_session
    with pytest.raises(ProblemError) as caught:
        await client.me()
    assert caught.value.code == "session-missing"


async def test_session_holds_what_the_home_screen_shows_and_clear_forgets_it(
    client: KioskClient, factory: Factory, site: Site
) -> None:
    alice = await factory.account(
        site, "1001", name="Alice Martin", pin=ALICE_PIN, roles=["reception"]
    )
    await factory.ledger_entry(alice, 1250)
    session = KioskSession.from_me(await client.sign_in("CANTINE", "1001", ALICE_PIN))

    assert session.signed_in
    assert (session.identifier, session.name) == ("1001", "Alice Martin")
    assert (session.site_code, session.site_name) == ("CANTINE", "Cantine Lumière")
    assert (session.balance_cents, session.currency) == (1250, "EUR")
    assert session.site_language == "fr"
    assert session.has_role("reception")

    session.clear()

    assert not session.signed_in
    assert session == KioskSession()
    assert "Alice" not in repr(session)
    assert session.balance_cents is None


async def test_sign_out_revokes_the_session_on_the_service(
    client: KioskClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "1001", pin=ALICE_PIN)
    await client.sign_in("CANTINE", "1001", ALICE_PIN)
    token = client._session_token  # read here only to replay it after sign-out
    assert token is not None

    await client.sign_out()

    replay = await client._http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert replay.status_code == 401
    assert replay.json()["code"] == "session-invalid"


async def test_wrong_pin_is_pin_incorrect_and_keeps_nobody_signed_in(
    client: KioskClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "1001", pin=ALICE_PIN)

    with pytest.raises(ProblemError) as caught:
        await client.sign_in("CANTINE", "1001", "135790")

    assert caught.value.code == "pin-incorrect"
    assert caught.value.status == 401
    assert not client.has_session


async def test_paused_account_carries_retry_after(
    client: KioskClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "1001", pin=ALICE_PIN)
    codes = []
    for _ in range(6):
        with pytest.raises(ProblemError) as caught:
            await client.sign_in("CANTINE", "1001", "135790")
        codes.append(caught.value.code)

    assert codes[0] == "pin-incorrect"
    assert codes[-1] == "account-paused"
    assert caught.value.status == 423
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 0


async def test_activation_with_a_verification_code_signs_in(
    client: KioskClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "1002", name="Bruno Lefèvre", email="bruno@example.com")

    identity = await client.identify("CANTINE", "1002")
    sent = await client.send_verification_code("CANTINE", "1002", "activate")
    code = await factory.last_code("bruno@example.com")
    grant = await client.check_verification_code("CANTINE", "1002", code)
    me = await client.set_pin(grant.pin_setup_token, "482913")

    assert identity.account_state == "pending_activation"
    assert sent.channel == "email"
    assert sent.destination == "b***@example.com"
    assert sent.expires_at.tzinfo is not None
    assert grant.pin_setup_token not in repr(grant)
    assert me.name == "Bruno Lefèvre"
    assert client.has_session
    assert (await client.me()).identifier == "1002"


async def test_body_that_does_not_fit_is_validation_failed_with_fields(
    client: KioskClient,
) -> None:
    with pytest.raises(ProblemError) as caught:
        await client.identify("", "1001")

    assert caught.value.code == "validation-failed"
    assert caught.value.status == 422
    assert caught.value.errors
    assert any("solution_code" in error.field for error in caught.value.errors)


async def test_unknown_identifier_is_account_unknown(client: KioskClient, site: Site) -> None:
    with pytest.raises(ProblemError) as caught:
        await client.identify("CANTINE", "9999")

    assert caught.value.code == "account-unknown"


async def test_nothing_secret_is_logged(
    client: KioskClient,
    factory: Factory,
    site: Site,
    terminal: EnrolledDevice,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await factory.account(site, "1001", pin=ALICE_PIN)
    await factory.account(site, "1002", email="bruno@example.com")
    caplog.set_level(logging.DEBUG)

    await client.send_verification_code("CANTINE", "1002", "activate")
    code = await factory.last_code("bruno@example.com")
    grant = await client.check_verification_code("CANTINE", "1002", code)
    with pytest.raises(ProblemError):
        await client.sign_in("CANTINE", "1001", "135790")
    await client.sign_in("CANTINE", "1001", ALICE_PIN)
    token = client._session_token
    await client.me()
    await client.sign_out()

    # The terminal's side: the client and the HTTP stack under it. (The service's own database
    # driver logs SQL parameters at DEBUG, the outbox's message body among them: not our side.)
    terminal_side = "\n".join(
        f"{record.getMessage()} {record.args}"
        for record in caplog.records
        if record.name.startswith(("kiosk.", "httpx", "httpcore"))
    )
    assert "HTTP Request: POST http://kiosk.test/v1/auth/sessions" in terminal_side
    for secret in (terminal.key, ALICE_PIN, "135790", code, grant.pin_setup_token, token):
        assert secret
        assert secret not in terminal_side


async def test_closed_port_is_service_unavailable_after_retries(closed_port: int) -> None:
    transport = CountingTransport(httpx.AsyncHTTPTransport())
    async with KioskClient(
        f"http://127.0.0.1:{closed_port}", "key", transport=transport, backoff_seconds=0.01
    ) as client:
        with pytest.raises(ServiceUnavailable):
            await client.health()
        assert transport.sent == 3

        # Refused before any byte was sent: a write is safe to retry too.
        with pytest.raises(ServiceUnavailable):
            await client.identify("CANTINE", "1001")
        assert transport.sent == 6


async def test_timeouts_are_retried_for_reads_but_never_for_writes(silent_port: int) -> None:
    transport = CountingTransport(httpx.AsyncHTTPTransport())
    async with KioskClient(
        f"http://127.0.0.1:{silent_port}",
        "key",
        timeout=0.2,
        transport=transport,
        backoff_seconds=0.01,
    ) as client:
        with pytest.raises(ServiceUnavailable):
            await client.device()
        assert transport.sent == 3

        # The request may have reached the service: sending it again could act twice.
        with pytest.raises(ServiceUnavailable):
            await client.sign_in("CANTINE", "1001", ALICE_PIN)
        assert transport.sent == 4


async def test_sign_out_never_raises_when_the_service_is_gone(
    service_app: FastAPI,
    api: httpx.AsyncClient,
    terminal: EnrolledDevice,
    factory: Factory,
    site: Site,
    closed_port: int,
) -> None:
    await factory.account(site, "1001", pin=ALICE_PIN)
    transport = UnpluggableTransport(service_transport(service_app), closed_port)
    async with KioskClient(
        BASE_URL, terminal.key, transport=transport, backoff_seconds=0.01
    ) as client:
        await client.sign_in("CANTINE", "1001", ALICE_PIN)
        transport.unplugged = True

        await client.sign_out()

        assert not client.has_session


async def test_answers_outside_the_contract_are_typed_errors(proxy_url: str) -> None:
    async with KioskClient(proxy_url, "key", backoff_seconds=0.01) as client:
        with pytest.raises(ServiceUnavailable):
            await client.health()  # 502 from a gateway
        with pytest.raises(ProblemError) as not_a_problem:
            await client.device()  # an HTML 404 page
        with pytest.raises(ProblemError) as wrong_shape:
            await client.me()  # 200, but not a Me

    assert (not_a_problem.value.code, not_a_problem.value.status) == ("unexpected-response", 404)
    assert (wrong_shape.value.code, wrong_shape.value.status) == ("unexpected-response", 200)


def _refuse_certificates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading a certificate bundle (what making a TLS context costs, about 50 ms) fails."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a certificate bundle was read")

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", refuse)


async def test_a_client_of_a_plain_http_service_reads_no_certificates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The embedded service answers on loopback in plain HTTP: nothing to verify, so the kiosk's
    client is made without reading certifi's bundle; an https client without a context of its
    own still reads it (the check above is real)."""
    _refuse_certificates(monkeypatch)
    async with KioskClient("http://127.0.0.1:8000", "key"):
        pass
    assert tls_context("http://127.0.0.1:8000") is None
    with pytest.raises(AssertionError, match="certificate bundle"):
        KioskClient("https://kiosk.example", "key")


async def test_a_client_of_an_https_service_takes_the_context_made_beforehand(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The kiosk makes an https service's TLS context in a thread (`tls_context`), off the UI
    loop, and the client uses that one instead of making its own."""
    tls = tls_context("https://kiosk.example")
    assert isinstance(tls, ssl.SSLContext)
    assert tls.verify_mode is ssl.CERT_REQUIRED
    assert tls.check_hostname
    _refuse_certificates(monkeypatch)
    async with KioskClient("https://kiosk.example", "key", tls=tls):
        pass
