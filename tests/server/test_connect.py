"""Signing in by scanning a welcome letter's connect QR, through HTTP, on SQLite and PostgreSQL.
The committed demo QRs (examples/connect-qr/) work on a freshly seeded demo database."""

from __future__ import annotations

from pathlib import Path

import cv2
import httpx
import zxingcpp
from fastapi import FastAPI

from kiosk_server.admin.accounts import connect_letters, revoke_connect
from kiosk_server.clock import ManualClock
from kiosk_server.demo import DEMO_SITES, seed_demo
from kiosk_server.models import Account, Site
from kiosk_server.services.badges import issue_badge
from kiosk_server.tokens import make_connect_token, new_connect_secret
from tests.conftest import device_client
from tests.factories import Factory
from tests.server.conftest import PIN, assert_problem, sign_in

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "connect-qr"


async def letter(factory: Factory, site_code: str, identifier: str) -> str:
    """The token a welcome letter printed now would carry."""
    async with factory.session_factory() as session:
        (made,) = await connect_letters(session, site_code=site_code, identifiers=[identifier])
    return made.token


async def connect(kiosk: httpx.AsyncClient, token: str) -> httpx.Response:
    return await kiosk.post("/v1/auth/connect", json={"connect_token": token})


def changed(token: str, index: int) -> str:
    replacement = "B" if token[index] != "B" else "C"
    return token[:index] + replacement + token[index + 1 :]


async def test_each_account_state_goes_on_as_typing_the_identifier(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "E1", name="Active", pin=PIN)
    await factory.account(site, "E2", name="Pending")
    await factory.account(site, "E3", name="Locked", pin=PIN, locked=True)
    cantine = {"code": "CANTINE", "name": "Cantine Lumière"}

    answers = {
        identifier: await connect(kiosk, await letter(factory, "CANTINE", identifier))
        for identifier in ("E1", "E2", "E3")
    }

    assert {identifier: answer.json() for identifier, answer in answers.items()} == {
        "E1": {
            "solution_code": "CANTINE",
            "identifier": "E1",
            "account_state": "active",
            "site": cantine,
        },
        "E2": {
            "solution_code": "CANTINE",
            "identifier": "E2",
            "account_state": "pending_activation",
            "site": cantine,
        },
        "E3": {
            "solution_code": "CANTINE",
            "identifier": "E3",
            "account_state": "locked",
            "site": cantine,
        },
    }
    # The terminal then signs in with what the scan gave, as after typing.
    found = answers["E1"].json()
    signed_in = await sign_in(kiosk, found["identifier"], PIN, solution=found["solution_code"])
    assert signed_in.status_code == 201
    assert signed_in.json()["me"]["name"] == "Active"


async def test_a_revoked_letter_stops_working_and_a_new_one_works(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "E1", pin=PIN)
    old = await letter(factory, "CANTINE", "E1")
    assert (await connect(kiosk, old)).status_code == 200

    async with factory.session_factory() as session, session.begin():
        await revoke_connect(session, site_code="CANTINE", identifier="E1")

    assert_problem(await connect(kiosk, old), 410, "connect-revoked")
    new = await letter(factory, "CANTINE", "E1")
    assert new != old
    assert (await connect(kiosk, new)).json()["identifier"] == "E1"


async def test_a_letter_of_a_site_the_terminal_does_not_serve(
    service_app: FastAPI, kiosk: httpx.AsyncClient, factory: Factory
) -> None:
    nord = await factory.site("NORD", name="Site Nord")
    await factory.account(nord, "E1", pin=PIN)
    token = await letter(factory, "NORD", "E1")

    assert_problem(await connect(kiosk, token), 404, "connect-other-site")
    nord_terminal = await factory.device([nord], name="Borne nord")
    async with device_client(service_app, nord_terminal.key) as kiosk_nord:
        accepted = await connect(kiosk_nord, token)
    assert accepted.json()["solution_code"] == "NORD"


async def test_forged_and_changed_letters_are_invalid(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    account = await factory.account(site, "E1", pin=PIN)
    genuine = await letter(factory, "CANTINE", "E1")
    wrong_secret = make_connect_token(
        site_id=site.id, account_id=account.id, version=0, secret=new_connect_secret()
    )
    no_account = make_connect_token(
        site_id=site.id, account_id=999_999, version=0, secret=site.connect_secret
    )

    assert_problem(await connect(kiosk, wrong_secret), 422, "connect-invalid")
    assert_problem(await connect(kiosk, no_account), 422, "connect-invalid")
    assert_problem(await connect(kiosk, changed(genuine, -3)), 422, "connect-invalid")


async def test_a_badge_or_anything_else_is_not_a_connect_qr(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    account = await factory.account(site, "E1", pin=PIN)
    async with factory.session_factory() as session:
        stored = await session.get(Account, account.id)
        assert stored is not None
        badge = (await issue_badge(session, stored, clock.now())).token

    refused = assert_problem(await connect(kiosk, badge), 400, "connect-malformed")
    assert "badge" in str(refused["detail"])
    for garbage in ("", "1001", "https://example.com/C1", "C1" + "A" * 35, "C1\x00" + "A" * 35):
        refused = assert_problem(await connect(kiosk, garbage), 400, "connect-malformed")
        assert "badge" not in str(refused["detail"])
    assert_problem(await connect(kiosk, "C" * 300), 422, "validation-failed")


async def test_a_blocked_account_is_refused(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    blocked = await factory.account(site, "E1", pin=PIN, status="blocked")
    # Made directly: `connect-qr` prints no letter for a blocked account.
    token = make_connect_token(
        site_id=site.id, account_id=blocked.id, version=0, secret=site.connect_secret
    )

    assert_problem(await connect(kiosk, token), 403, "account-blocked")


async def test_bad_letters_count_towards_the_terminal_throttle(
    service_app: FastAPI, factory: Factory
) -> None:
    strict = await factory.site("STRICT", settings={"terminal_throttle_failures": 3})
    await factory.account(strict, "E1", pin=PIN)
    terminal = await factory.device([strict], name="Borne stricte")
    good = await letter(factory, "STRICT", "E1")

    async with device_client(service_app, terminal.key) as kiosk:
        for garbage in ("x", "y", "z"):
            assert_problem(await connect(kiosk, garbage), 400, "connect-malformed")
        throttled = assert_problem(await connect(kiosk, good), 429, "terminal-throttled")
        identified = await kiosk.post(
            "/v1/auth/identify", json={"solution_code": "STRICT", "identifier": "E1"}
        )
    assert throttled["retry_after"]
    assert_problem(identified, 429, "terminal-throttled")


async def test_only_terminals_connect(service_app: FastAPI, factory: Factory, site: Site) -> None:
    await factory.account(site, "E1", pin=PIN)
    door = await factory.device([site], role="door", name="Porte")
    async with device_client(service_app, door.key) as client:
        refused = await connect(client, await letter(factory, "CANTINE", "E1"))
    assert_problem(refused, 403, "device-role-forbidden")


def committed_letters() -> list[tuple[str, str, str]]:
    """(site code, identifier, decoded text) of each committed demo QR, read as a scanner
    reads a photo of the letter."""
    found = []
    for path in sorted(EXAMPLES.glob("*.png")):
        code, identifier = path.stem.split("-", 1)
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        assert image is not None, path
        (decoded,) = zxingcpp.read_barcodes(image)
        assert decoded.format == zxingcpp.BarcodeFormat.QRCode
        found.append((code, identifier, decoded.text))
    return found


def test_every_demo_account_has_a_committed_letter() -> None:
    expected = {(s.code, a.identifier) for s in DEMO_SITES for a in s.accounts}
    assert {(code, identifier) for code, identifier, _ in committed_letters()} == expected


async def test_committed_demo_letters_work_on_a_fresh_demo_database(
    service_app: FastAPI, api: httpx.AsyncClient, clock: ManualClock
) -> None:
    key = await seed_demo(
        service_app.state.session_factory, clock=clock, argon2=service_app.state.argon2
    )
    assert key is not None
    states = {
        (s.code, a.identifier): ("active" if a.status == "active" else "pending_activation")
        for s in DEMO_SITES
        for a in s.accounts
    }

    async with device_client(service_app, key) as kiosk:
        for code, identifier, text in committed_letters():
            answer = await connect(kiosk, text)
            assert answer.status_code == 200, (code, identifier, answer.text)
            found = answer.json()
            assert (found["solution_code"], found["identifier"]) == (code, identifier)
            assert found["account_state"] == states[(code, identifier)]
