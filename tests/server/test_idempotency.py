"""Every idempotency answer of a money route, over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from kiosk_server.clock import ManualClock
from kiosk_server.models import Account, IdempotencyKey, LedgerEntry, Site
from kiosk_server.services import idempotency, idempotency_keys
from tests.conftest import device_client
from tests.factories import EnrolledDevice, Factory
from tests.server.conftest import assert_problem
from tests.server.money_support import badge_token, buy, new_key, purchase_body

LUNCH = ("Plat du jour", 1, 850, 1000)
PATH = "/v1/till/purchases"


async def entries_of(factory: Factory, account: Account) -> int:
    async with factory.session_factory() as session:
        count = await session.scalar(
            select(func.count()).where(LedgerEntry.account_id == account.id)
        )
        return int(count or 0)


async def test_a_retry_with_the_same_key_replays_the_first_answer(
    till: httpx.AsyncClient, factory: Factory, jeanne: Account, site: Site, clock: ManualClock
) -> None:
    key = new_key()
    body = purchase_body(badge_token(jeanne, site, clock), LUNCH)
    first = await buy(till, body, key)
    assert first.status_code == 201, first.text
    clock.advance(seconds=5)
    retry = await buy(till, body, key)
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotency-Replayed"] == "true"
    assert await entries_of(factory, jeanne) == 2  # the opening top-up and one purchase
    # The token was spent once, by the first request: a new intent with it is refused.
    assert_problem(await buy(till, body), 409, "badge-already-used")


async def test_the_same_key_with_another_body_is_refused(
    till: httpx.AsyncClient, factory: Factory, jeanne: Account, site: Site, clock: ManualClock
) -> None:
    key = new_key()
    token = badge_token(jeanne, site, clock)
    assert (await buy(till, purchase_body(token, LUNCH), key)).status_code == 201
    other = await buy(till, purchase_body(token, ("Café", 1, 120, 1000)), key)
    assert_problem(other, 422, "idempotency-key-reused")
    assert await entries_of(factory, jeanne) == 2


async def test_a_key_is_scoped_to_its_device(
    till: httpx.AsyncClient,
    service_app: FastAPI,
    factory: Factory,
    jeanne: Account,
    site: Site,
    clock: ManualClock,
) -> None:
    other = await factory.device([site], role="till", name="Caisse 2")
    key = new_key()
    assert (
        await buy(till, purchase_body(badge_token(jeanne, site, clock), LUNCH), key)
    ).status_code == 201
    async with device_client(service_app, other.key) as second_till:
        body = purchase_body(badge_token(jeanne, site, clock, steps_ahead=1), LUNCH)
        answer = await buy(second_till, body, key)
    assert answer.status_code == 201, answer.text
    assert "Idempotency-Replayed" not in answer.headers
    assert await entries_of(factory, jeanne) == 3


async def crashed_claim(
    factory: Factory, device: EnrolledDevice, key: str, body: dict[str, object], now: dt.datetime
) -> None:
    """Record the key as a worker that crashed mid-work would have left it."""
    async with factory.session_factory() as session:
        session.add(
            IdempotencyKey(
                scope=idempotency.device_scope(device.id),
                key=key,
                request_hash=idempotency.request_hash("POST", PATH, body),
                state="in_progress",
                owner="crashed-worker",
                created_at=now,
                locked_until=now + idempotency_keys.LEASE,
            )
        )
        await session.commit()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_on_sqlite_a_key_in_progress_waits_for_its_lease_then_is_taken_over(
    till: httpx.AsyncClient,
    till_device: EnrolledDevice,
    factory: Factory,
    jeanne: Account,
    site: Site,
    clock: ManualClock,
) -> None:
    key = new_key()
    # A token of the next step, so that it is still valid when the lease has run out.
    body = purchase_body(badge_token(jeanne, site, clock, steps_ahead=1), LUNCH)
    await crashed_claim(factory, till_device, key, body, clock.now())

    busy = assert_problem(await buy(till, body, key), 409, "idempotency-in-progress")
    assert isinstance(busy["retry_after"], int)
    # Another body under that key is still a misuse of the key, in progress or not.
    other = purchase_body(badge_token(jeanne, site, clock), ("Café", 1, 120, 1000))
    assert_problem(await buy(till, other, key), 422, "idempotency-key-reused")
    clock.advance(seconds=30)
    assert_problem(await buy(till, body, key), 409, "idempotency-in-progress")
    assert await entries_of(factory, jeanne) == 1

    clock.advance(seconds=31)  # the crashed worker's lease has run out
    taken_over = await buy(till, body, key)
    assert taken_over.status_code == 201, taken_over.text
    assert taken_over.json()["balance_after"]["amount_cents"] == 1150
    replay = await buy(till, body, key)
    assert replay.headers["Idempotency-Replayed"] == "true"
    assert replay.json() == taken_over.json()
    assert await entries_of(factory, jeanne) == 2


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_on_postgresql_a_dead_workers_key_is_taken_over_at_once_a_live_ones_waits(
    till: httpx.AsyncClient,
    till_device: EnrolledDevice,
    factory: Factory,
    jeanne: Account,
    site: Site,
    clock: ManualClock,
) -> None:
    # A claim nobody holds the lock of: its worker died (PostgreSQL dropped its connection and
    # the lock with it). The retry takes it over at once, its lease still running.
    dead = new_key()
    body = purchase_body(badge_token(jeanne, site, clock), LUNCH)
    await crashed_claim(factory, till_device, dead, body, clock.now())
    taken_over = await buy(till, body, dead)
    assert taken_over.status_code == 201, taken_over.text
    assert await entries_of(factory, jeanne) == 2

    # A claim whose worker is alive, working (it holds the key's lock): come back in a second.
    alive = new_key()
    body = purchase_body(badge_token(jeanne, site, clock, steps_ahead=1), ("Café", 1, 120, 1000))
    await crashed_claim(factory, till_device, alive, body, clock.now())
    lock = idempotency_keys.lock_id(idempotency.device_scope(till_device.id), alive)
    async with factory.session_factory() as worker:
        await worker.execute(select(func.pg_advisory_xact_lock(lock)))
        busy = assert_problem(await buy(till, body, alive), 409, "idempotency-in-progress")
        assert busy["retry_after"] == 1
    # The worker's connection is gone: the next retry does the work, once.
    done = await buy(till, body, alive)
    assert done.status_code == 201, done.text
    assert done.json()["balance_after"]["amount_cents"] == 2000 - 850 - 120
    assert (await buy(till, body, alive)).headers["Idempotency-Replayed"] == "true"
    assert await entries_of(factory, jeanne) == 3


async def test_a_refusal_is_stored_and_replayed(
    till: httpx.AsyncClient, factory: Factory, jeanne: Account, site: Site, clock: ManualClock
) -> None:
    key = new_key()
    body = purchase_body(badge_token(jeanne, site, clock), ("Menu gastronomique", 1, 2500, 1000))
    first = await buy(till, body, key)
    assert_problem(first, 409, "insufficient-balance")
    assert "Idempotency-Replayed" not in first.headers
    await factory.ledger_entry(jeanne, 5000)
    # The same intent retried gets the same answer, even though it would now pass.
    retry = await buy(till, body, key)
    assert_problem(retry, 409, "insufficient-balance")
    assert retry.headers["Idempotency-Replayed"] == "true"
    assert retry.content == first.content
    assert await entries_of(factory, jeanne) == 2


async def test_a_claim_released_after_a_failure_can_run_again(
    factory: Factory, till_device: EnrolledDevice, clock: ManualClock
) -> None:
    scope = idempotency.device_scope(till_device.id)
    digest = idempotency.request_hash("POST", PATH, {"x": 1})
    claim = await idempotency.claim_key(
        factory.session_factory, scope=scope, key="k1", request_hash=digest, now=clock.now()
    )
    assert isinstance(claim, idempotency.Claim)
    await idempotency.release_key(factory.session_factory, claim)
    again = await idempotency.claim_key(
        factory.session_factory, scope=scope, key="k1", request_hash=digest, now=clock.now()
    )
    assert isinstance(again, idempotency.Claim)
    assert again.owner != claim.owner


async def test_a_taken_over_claim_can_no_longer_store_its_answer(
    factory: Factory, till_device: EnrolledDevice, clock: ManualClock
) -> None:
    scope = idempotency.device_scope(till_device.id)
    digest = idempotency.request_hash("POST", PATH, {"x": 1})
    slow = await idempotency.claim_key(
        factory.session_factory, scope=scope, key="k2", request_hash=digest, now=clock.now()
    )
    assert isinstance(slow, idempotency.Claim)
    clock.advance(seconds=61)
    fresh = await idempotency.claim_key(
        factory.session_factory, scope=scope, key="k2", request_hash=digest, now=clock.now()
    )
    assert isinstance(fresh, idempotency.Claim)
    async with factory.session_factory() as session:
        with pytest.raises(idempotency.ClaimLost):
            await idempotency.store_answer(session, slow, status_code=201, body={"late": True})
        await session.rollback()
        await idempotency.store_answer(session, fresh, status_code=201, body={"ok": True})
        await session.commit()
    stored = await idempotency.claim_key(
        factory.session_factory, scope=scope, key="k2", request_hash=digest, now=clock.now()
    )
    assert stored == idempotency.StoredAnswer(status_code=201, body={"ok": True})


async def test_keys_older_than_a_day_are_purged(
    till: httpx.AsyncClient, factory: Factory, jeanne: Account, site: Site, clock: ManualClock
) -> None:
    await buy(till, purchase_body(badge_token(jeanne, site, clock), LUNCH))
    clock.advance(hours=12)
    await buy(till, purchase_body(badge_token(jeanne, site, clock), ("Café", 1, 120, 1000)))
    clock.advance(hours=12, seconds=1)
    async with factory.session_factory() as session:
        assert await idempotency_keys.purge_keys(session, now=clock.now()) == 1
        await session.commit()
        left = await session.scalar(select(func.count()).select_from(IdempotencyKey))
    assert left == 1


def test_the_request_hash_ignores_key_order_and_spacing() -> None:
    a = idempotency.request_hash("POST", PATH, {"a": 1, "b": [1, 2]})
    b = idempotency.request_hash("post", PATH, {"b": [1, 2], "a": 1})
    assert a == b
    assert a != idempotency.request_hash("POST", "/v1/cash-top-ups", {"a": 1, "b": [1, 2]})
