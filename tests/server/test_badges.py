"""The badge through HTTP: a person's rotating token, doors and tills verifying it, and a till
consuming it (one token pays once), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.admin.accounts import rotate_badge
from kiosk_server.clock import ManualClock
from kiosk_server.models import Account, BadgeTokenUse, Device, Site
from kiosk_server.problems import ProblemError
from kiosk_server.services.badges import spend_badge
from kiosk_server.services.devices import device_by_key
from kiosk_server.tokens import BADGE_TOKEN_LENGTH, current_step, make_badge_token
from tests.conftest import device_client
from tests.factories import EnrolledDevice, Factory
from tests.server.conftest import PIN, assert_problem, bearer, sign_in

STEP = 30


@pytest.fixture
async def door(
    service_app: FastAPI, factory: Factory, site: Site
) -> AsyncIterator[httpx.AsyncClient]:
    device = await factory.device([site], role="door", name="Porte hall")
    async with device_client(service_app, device.key) as client:
        yield client


@pytest.fixture
async def jeanne(factory: Factory, site: Site) -> Account:
    return await factory.account(site, "E1001", name="Jeanne Martin", pin=PIN)


async def consume(
    session: AsyncSession, *, device: Device, token: str, now: dt.datetime
) -> tuple[Account, Site]:
    """Spend the token as a till's purchase does, and load whose it was."""
    spent = await spend_badge(session, device=device, token=token, now=now)
    account = await session.get(Account, spent.account_id)
    assert account is not None
    return account, spent.site


async def badge_of(kiosk: httpx.AsyncClient, identifier: str) -> dict[str, object]:
    """Sign in on the kiosk and fetch the badge, as the badge screen does."""
    signed_in = await sign_in(kiosk, identifier, PIN)
    assert signed_in.status_code == 201, signed_in.text
    answer = await kiosk.get("/v1/me/badge", headers=bearer(signed_in.json()["token"]))
    assert answer.status_code == 200, answer.text
    badge: dict[str, object] = answer.json()
    return badge


async def verify(reader: httpx.AsyncClient, token: object) -> httpx.Response:
    return await reader.post("/v1/badges/verify", json={"token": token})


def changed(token: str, index: int) -> str:
    """The token with one base32 character replaced by another."""
    replacement = "B" if token[index] != "B" else "C"
    return token[:index] + replacement + token[index + 1 :]


async def test_badge_carries_a_token_and_when_to_refresh(
    kiosk: httpx.AsyncClient, jeanne: Account, clock: ManualClock
) -> None:
    clock.advance(seconds=10)  # the clock starts on a step boundary; be inside a step
    badge = await badge_of(kiosk, "E1001")

    token = badge["token"]
    assert isinstance(token, str)
    assert token.startswith("B1")
    assert len(token) == BADGE_TOKEN_LENGTH
    step_start = clock.now() - dt.timedelta(seconds=10)
    assert badge["step_seconds"] == STEP
    assert dt.datetime.fromisoformat(str(badge["refresh_at"])) == step_start + dt.timedelta(
        seconds=STEP
    )
    assert dt.datetime.fromisoformat(str(badge["valid_until"])) == step_start + dt.timedelta(
        seconds=2 * STEP
    )
    assert badge["name"] == "Jeanne Martin"
    assert badge["site"] == {"code": "CANTINE", "name": "Cantine Lumière"}


async def test_the_token_changes_with_the_step(
    kiosk: httpx.AsyncClient, jeanne: Account, clock: ManualClock
) -> None:
    signed_in = await sign_in(kiosk, "E1001", PIN)
    headers = bearer(signed_in.json()["token"])
    first = (await kiosk.get("/v1/me/badge", headers=headers)).json()
    clock.advance(seconds=STEP - 1)
    same_step = (await kiosk.get("/v1/me/badge", headers=headers)).json()
    clock.advance(seconds=1)
    next_step = (await kiosk.get("/v1/me/badge", headers=headers)).json()

    assert same_step["token"] == first["token"]
    assert next_step["token"] != first["token"]
    assert next_step["refresh_at"] > first["refresh_at"]


async def test_badge_needs_a_signed_in_person_on_a_terminal(
    kiosk: httpx.AsyncClient, door: httpx.AsyncClient
) -> None:
    assert_problem(await kiosk.get("/v1/me/badge"), 401, "session-missing")
    assert_problem(await door.get("/v1/me/badge"), 403, "device-role-forbidden")


async def test_door_accepts_the_current_and_adjacent_steps_only(
    kiosk: httpx.AsyncClient, door: httpx.AsyncClient, jeanne: Account, clock: ManualClock
) -> None:
    clock.advance(seconds=5)
    issued_at = clock.now()
    token = (await badge_of(kiosk, "E1001"))["token"]
    holder = {
        "name": "Jeanne Martin",
        "identifier": "E1001",
        "site": {"code": "CANTINE", "name": "Cantine Lumière"},
    }

    for offset_steps in (0, 1, -1):
        clock.set(issued_at + dt.timedelta(seconds=offset_steps * STEP))
        accepted = await verify(door, token)
        assert accepted.status_code == 200, (offset_steps, accepted.text)
        assert accepted.json() == holder
    for offset_steps in (2, -2, 3):
        clock.set(issued_at + dt.timedelta(seconds=offset_steps * STEP))
        assert_problem(await verify(door, token), 410, "badge-expired")


async def test_a_door_may_verify_the_same_token_again(
    kiosk: httpx.AsyncClient, door: httpx.AsyncClient, jeanne: Account
) -> None:
    token = (await badge_of(kiosk, "E1001"))["token"]

    first = await verify(door, token)
    second = await verify(door, token)

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()


async def test_a_changed_character_is_refused(
    kiosk: httpx.AsyncClient, door: httpx.AsyncClient, jeanne: Account
) -> None:
    token = (await badge_of(kiosk, "E1001"))["token"]
    assert isinstance(token, str)

    # In the tag (the last characters but the very last, which also holds padding bits).
    assert_problem(await verify(door, changed(token, -3)), 422, "badge-tampered")
    # Anywhere: never accepted, always a calm refusal.
    for index in range(2, len(token)):
        refused = await verify(door, changed(token, index))
        assert refused.status_code in (400, 403, 422), (index, refused.text)
        assert refused.json()["code"] in ("badge-tampered", "badge-malformed", "badge-other-site")


async def test_a_token_signed_with_another_accounts_secret_is_refused(
    door: httpx.AsyncClient, factory: Factory, site: Site, jeanne: Account, clock: ManualClock
) -> None:
    other = await factory.account(site, "E2002", name="Paul Durand", pin=PIN)
    forged = make_badge_token(
        site_id=site.id,
        account_id=jeanne.id,
        secret=other.badge_secret,
        step=current_step(clock.now(), STEP),
    )
    unknown_account = make_badge_token(
        site_id=site.id, account_id=999_999, secret=other.badge_secret, step=0
    )

    assert_problem(await verify(door, forged), 422, "badge-tampered")
    assert_problem(await verify(door, unknown_account), 422, "badge-tampered")


async def test_a_badge_of_a_site_the_door_does_not_serve_is_refused(
    service_app: FastAPI, door: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    nord = await factory.site("NORD", name="Site Nord")
    noe = await factory.account(nord, "N1", name="Noé Petit", pin=PIN)
    nord_terminal = await factory.device([nord], name="Borne nord")
    async with device_client(service_app, nord_terminal.key) as kiosk_nord:
        signed_in = await sign_in(kiosk_nord, "N1", PIN, solution="NORD")
        token = await kiosk_nord.get("/v1/me/badge", headers=bearer(signed_in.json()["token"]))
    assert token.status_code == 200
    nord_door = await factory.device([nord], role="door", name="Porte nord")

    assert_problem(await verify(door, token.json()["token"]), 403, "badge-other-site")
    async with device_client(service_app, nord_door.key) as door_nord:
        accepted = await verify(door_nord, token.json()["token"])
    assert accepted.status_code == 200
    assert accepted.json()["identifier"] == noe.identifier


async def test_a_blocked_account_is_refused(
    kiosk: httpx.AsyncClient, door: httpx.AsyncClient, factory: Factory, jeanne: Account
) -> None:
    token = (await badge_of(kiosk, "E1001"))["token"]
    async with factory.session_factory() as session, session.begin():
        account = await session.get(Account, jeanne.id)
        assert account is not None
        account.status = "blocked"

    assert_problem(await verify(door, token), 403, "account-blocked")


async def test_rotating_the_secret_voids_earlier_tokens(
    kiosk: httpx.AsyncClient, door: httpx.AsyncClient, factory: Factory, jeanne: Account
) -> None:
    signed_in = await sign_in(kiosk, "E1001", PIN)
    headers = bearer(signed_in.json()["token"])
    before = (await kiosk.get("/v1/me/badge", headers=headers)).json()["token"]
    assert (await verify(door, before)).status_code == 200

    async with factory.session_factory() as session, session.begin():
        await rotate_badge(session, site_code="cantine", identifier="E1001")

    assert_problem(await verify(door, before), 422, "badge-tampered")
    after = (await kiosk.get("/v1/me/badge", headers=headers)).json()["token"]
    assert after != before
    assert (await verify(door, after)).status_code == 200


async def test_not_a_badge_is_malformed(
    door: httpx.AsyncClient, factory: Factory, site: Site, jeanne: Account
) -> None:
    from kiosk_server.services.connect import connect_token_for

    async with factory.session_factory() as session:
        stored_site = await session.get(Site, site.id)
        account = await session.get(Account, jeanne.id)
        assert stored_site is not None and account is not None
        letter = connect_token_for(stored_site, account)

    refused = assert_problem(await verify(door, letter), 400, "badge-malformed")
    assert "connect" in str(refused["detail"])
    for garbage in ("", "hello", "https://example.com/B1", "B1" + "A" * 35, "B1\x1b[2J" + "A" * 33):
        assert_problem(await verify(door, garbage), 400, "badge-malformed")
    assert_problem(await verify(door, "B" * 300), 422, "validation-failed")


async def test_only_doors_and_tills_verify(
    service_app: FastAPI,
    kiosk: httpx.AsyncClient,
    till_device: EnrolledDevice,
    factory: Factory,
    site: Site,
    jeanne: Account,
) -> None:
    token = (await badge_of(kiosk, "E1001"))["token"]
    kitchen = await factory.device([site], role="kitchen", name="Écran cuisine")

    assert_problem(await verify(kiosk, token), 403, "device-role-forbidden")
    async with device_client(service_app, kitchen.key) as client:
        assert_problem(await verify(client, token), 403, "device-role-forbidden")
    async with device_client(service_app, till_device.key) as till:
        accepted = await verify(till, token)
    assert accepted.status_code == 200
    assert accepted.json()["name"] == "Jeanne Martin"


async def test_a_token_pays_once(
    service_app: FastAPI,
    kiosk: httpx.AsyncClient,
    till_device: EnrolledDevice,
    jeanne: Account,
    clock: ManualClock,
) -> None:
    token = str((await badge_of(kiosk, "E1001"))["token"])
    session_factory = service_app.state.session_factory

    async with session_factory() as session, session.begin():
        till = await device_by_key(session, till_device.key)
        assert till is not None
        account, site = await consume(session, device=till, token=token, now=clock.now())
        assert (account.identifier, site.code) == ("E1001", "CANTINE")

    async with session_factory() as session, session.begin():
        till = await device_by_key(session, till_device.key)
        assert till is not None
        with pytest.raises(ProblemError) as caught:
            await consume(session, device=till, token=token, now=clock.now())
        assert caught.value.code == "badge-already-used"
        assert caught.value.status == 409
        # The refusal leaves the caller's transaction usable (a till's purchase goes on to
        # answer, or to try the next token).
        uses = (await session.scalars(select(BadgeTokenUse))).all()
        assert [(use.account_id, use.device_id) for use in uses] == [(jeanne.id, till_device.id)]

    # The next step's token pays again.
    clock.advance(seconds=STEP)
    next_token = str((await badge_of(kiosk, "E1001"))["token"])
    async with session_factory() as session, session.begin():
        till = await device_by_key(session, till_device.key)
        assert till is not None
        await consume(session, device=till, token=next_token, now=clock.now())


async def test_a_payment_rolled_back_does_not_spend_the_token(
    service_app: FastAPI,
    kiosk: httpx.AsyncClient,
    till_device: EnrolledDevice,
    jeanne: Account,
    clock: ManualClock,
) -> None:
    token = str((await badge_of(kiosk, "E1001"))["token"])
    session_factory = service_app.state.session_factory

    async with session_factory() as session:
        till = await device_by_key(session, till_device.key)
        assert till is not None
        await consume(session, device=till, token=token, now=clock.now())
        await session.rollback()  # the purchase failed after the token was taken

    async with session_factory() as session, session.begin():
        till = await device_by_key(session, till_device.key)
        assert till is not None
        account, _ = await consume(session, device=till, token=token, now=clock.now())
    assert account.id == jeanne.id


async def test_consuming_checks_the_token_like_verifying(
    service_app: FastAPI,
    kiosk: httpx.AsyncClient,
    till_device: EnrolledDevice,
    jeanne: Account,
    clock: ManualClock,
) -> None:
    token = str((await badge_of(kiosk, "E1001"))["token"])
    clock.advance(seconds=3 * STEP)

    async with service_app.state.session_factory() as session:
        till = await device_by_key(session, till_device.key)
        assert till is not None
        with pytest.raises(ProblemError) as caught:
            await consume(session, device=till, token=token, now=clock.now())
    assert caught.value.code == "badge-expired"
