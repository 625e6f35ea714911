"""Money under real concurrency and crashes: `kiosk-server --workers 2` on PostgreSQL, on
loopback, with 20 concurrent clients sending over 1,000 purchases and cash top-ups, some retried
with the same key, some connections dropped before the answer is read, and two workers killed
(SIGKILL) on the way; every interrupted request is retried with its key. Afterwards the ledger
must be whole: nothing lost, nothing doubled, no balance below its floor. And a purchase and a
cash top-up whose worker dies mid-work complete on the next retry, without waiting out the dead
claim's lease."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import signal
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from kiosk_server.clock import SystemClock
from kiosk_server.db import make_engine, make_session_factory
from kiosk_server.models import Account, IdempotencyKey, LedgerEntry, Site, Ticket
from kiosk_server.security import Argon2
from kiosk_server.services.money import ledger
from kiosk_server.tokens import current_step, make_badge_token
from tests.conftest import truncate_all
from tests.factories import Factory
from tests.processes import RunningServer, running_server
from tests.server.cli_support import CHEAP_ARGON2

pytestmark = pytest.mark.postgres

CLIENTS = 20
ACCOUNTS = 300
OPENING_CENTS = 2000
TOP_UPS = 420
PIN = "415926"


@pytest.fixture
async def pg_url(postgres_database: str) -> str:
    await truncate_all(postgres_database)
    return postgres_database


@pytest.fixture
def server(pg_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    """The real `kiosk-server` with two workers, on a free loopback port."""
    env = {**os.environ, **CHEAP_ARGON2, "KIOSK_DATA_DIR": str(tmp_path / "data")}
    env.pop("KIOSK_SERVER_DATABASE_URL", None)
    args = ["--database-url", pg_url, "--workers", "2"]
    with running_server(args, env, tmp_path / "server.log") as running:
        yield running


@dataclass
class Seeded:
    site: Site
    accounts: list[Account]
    till_key: str
    terminal_key: str


@pytest.fixture
async def seeded(pg_url: str) -> AsyncIterator[Seeded]:
    engine = make_engine(pg_url)
    factory = Factory(
        make_session_factory(engine),
        clock=SystemClock(),
        argon2=Argon2(time_cost=1, memory_cost_kib=8, parallelism=1),
    )
    site = await factory.site("LOAD", name="Load test")
    accounts = []
    for index in range(ACCOUNTS):
        account = await factory.account(
            site, f"P{index:04d}", name=f"Person {index}", status="active"
        )
        await factory.ledger_entry(account, OPENING_CENTS)
        accounts.append(account)
    await factory.account(site, "R01", name="Reception", pin=PIN, roles=["reception"])
    till = await factory.device([site], role="till", name="Caisse")
    terminal = await factory.device([site], role="terminal", name="Accueil")
    try:
        yield Seeded(site, accounts, till.key, terminal.key)
    finally:
        await engine.dispose()


@dataclass
class Outcomes:
    successes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Idempotency key → the 201 body a client saw."""
    refusals: dict[str, int] = field(default_factory=dict)
    replays_checked: int = 0
    dropped: int = 0
    interrupted: int = 0
    """Requests cut by a worker's death (the connection reset), then retried with their key."""


@dataclass
class Operation:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    key: str


def _raw_request(op: Operation, port: int) -> bytes:
    import json

    payload = json.dumps(op.body).encode()
    lines = [
        f"POST {op.path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in op.headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _send_and_hang_up(op: Operation, port: int) -> None:
    """Send the whole request, then close the connection without reading the answer."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(_raw_request(op, port))
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def _until_answered(
    client: httpx.AsyncClient, op: Operation, seen: Outcomes | None = None
) -> httpx.Response:
    """Send, retrying with the same key while the first attempt is still in progress, or when
    the connection broke (a worker died) before the answer came."""
    # No count of tries: how long the first attempt takes is the machine's (the per-test limit
    # bounds it).
    while True:
        try:
            answer = await client.post(op.path, json=op.body, headers=op.headers)
        except httpx.TransportError:
            if seen is not None:
                seen.interrupted += 1
            await asyncio.sleep(0.05)
            continue
        if answer.status_code != 409 or answer.json().get("code") != "idempotency-in-progress":
            return answer
        await asyncio.sleep(0.05)


async def _client(
    base: str, port: int, queue: asyncio.Queue[Operation], rng: random.Random, seen: Outcomes
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while True:
            try:
                op = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            if rng.random() < 0.06:
                await _send_and_hang_up(op, port)
                seen.dropped += 1
            answer = await _until_answered(client, op, seen)
            if answer.status_code == 201:
                seen.successes[op.key] = answer.json()
                if rng.random() < 0.1:
                    again = await _until_answered(client, op, seen)
                    assert again.status_code == 201
                    assert again.json() == answer.json()
                    assert again.headers["Idempotency-Replayed"] == "true"
                    seen.replays_checked += 1
            else:
                assert answer.status_code in (403, 409, 410, 422), answer.text
                seen.refusals[op.key] = answer.status_code


async def _kill_a_worker_at(server: RunningServer, seen: Outcomes, successes: int) -> int:
    """Once `successes` requests have succeeded, SIGKILL the worker holding the most of the
    clients' connections (the first found could hold none when the other accepted them all,
    and then its death cut no request)."""
    while True:
        victim = server.busiest_worker() if len(seen.successes) >= successes else None
        if victim is not None:
            break
        await asyncio.sleep(0.01)
    os.kill(victim, signal.SIGKILL)
    return victim


async def test_a_thousand_money_requests_and_two_worker_crashes_leave_the_ledger_whole(
    server: RunningServer, seeded: Seeded, pg_url: str
) -> None:
    base = server.base
    port = int(base.rsplit(":", 1)[1])
    rng = random.Random(20261126)
    async with httpx.AsyncClient(
        base_url=base, headers={"X-Device-Key": seeded.terminal_key}
    ) as desk:
        signed_in = await desk.post(
            "/v1/auth/sessions",
            json={"solution_code": "LOAD", "identifier": "R01", "pin": PIN},
        )
        assert signed_in.status_code == 201, signed_in.text
        reception_token = signed_in.json()["token"]

    step = current_step(dt.datetime.now(dt.UTC))
    operations: list[Operation] = []
    for account in seeded.accounts:
        # Two tokens per account (this step and the next): one token pays once.
        for offset in (0, 1):
            token = make_badge_token(
                site_id=seeded.site.id,
                account_id=account.id,
                secret=account.badge_secret,
                step=step + offset,
            )
            price = rng.choice((350, 620, 850, 1240, 1500))
            key = f"till-{account.id}-{offset}"
            operations.append(
                Operation(
                    "/v1/till/purchases",
                    {
                        "badge_token": token,
                        "lines": [
                            {
                                "item": "Menu",
                                "quantity": 1,
                                "unit_price_cents": price,
                                "vat_rate_bp": 1000,
                            }
                        ],
                        "total_cents": price,
                    },
                    {"X-Device-Key": seeded.till_key, "Idempotency-Key": key},
                    key,
                )
            )
    for index in range(TOP_UPS):
        account = rng.choice(seeded.accounts)
        key = f"cash-{index}"
        operations.append(
            Operation(
                "/v1/cash-top-ups",
                {"identifier": account.identifier, "amount_cents": rng.choice((500, 1000, 2000))},
                {
                    "X-Device-Key": seeded.terminal_key,
                    "Authorization": f"Bearer {reception_token}",
                    "Idempotency-Key": key,
                },
                key,
            )
        )
    rng.shuffle(operations)
    assert len(operations) >= 1000
    queue: asyncio.Queue[Operation] = asyncio.Queue()
    for op in operations:
        queue.put_nowait(op)
    seen = Outcomes()
    clients = asyncio.gather(
        *(_client(base, port, queue, random.Random(i), seen) for i in range(CLIENTS))
    )
    first = await _kill_a_worker_at(server, seen, len(operations) // 4)
    second = await _kill_a_worker_at(server, seen, len(operations) // 2)
    await clients

    assert first != second
    assert seen.dropped > 0 and seen.replays_checked > 0 and seen.interrupted > 0
    assert len(seen.successes) + len(seen.refusals) == len(operations)
    assert len(seen.successes) > 800  # most purchases are affordable, every top-up passes

    engine = make_engine(pg_url)
    try:
        async with make_session_factory(engine)() as session:
            assert await ledger.mismatched_balances(session) == []
            lowest = await session.scalar(select(func.min(Account.balance_cents)))
            assert lowest is not None and lowest >= 0
            # One ledger entry per key that succeeded, no more: nothing applied twice.
            moved = await session.scalar(
                select(func.count()).where(LedgerEntry.kind.in_(("purchase", "top_up")))
            )
            opening = ACCOUNTS  # the factory's opening top-ups
            assert moved == opening + len(seen.successes)
            done = await session.scalar(
                select(func.count()).where(
                    IdempotencyKey.state == "done", IdempotencyKey.status_code == 201
                )
            )
            assert done == len(seen.successes)
            # Every success a client saw is in the ledger, with the balance it was told.
            tickets = {
                ticket.id: ticket
                for ticket in await session.scalars(
                    select(Ticket).where(
                        Ticket.id.in_([body["ticket_id"] for body in seen.successes.values()])
                    )
                )
            }
            assert len(tickets) == len(seen.successes)
            for body in seen.successes.values():
                ticket = tickets[body["ticket_id"]]
                assert ticket.balance_after_cents == body["balance_after"]["amount_cents"]
            left = await session.scalar(
                select(func.count()).where(IdempotencyKey.state == "in_progress")
            )
            assert left == 0
    finally:
        await engine.dispose()


async def _waiting_backend_port(engine: AsyncEngine) -> int:
    """The client port of the database connection waiting for a row lock (the request the
    test holds up), once there is one."""
    query = text(
        "SELECT client_port FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while True:
        async with engine.connect() as connection:
            port = await connection.scalar(query)
        if port is not None:
            return int(port)
        await asyncio.sleep(0.01)


async def test_a_purchase_and_a_cash_top_up_cut_by_a_worker_crash_complete_on_retry(
    server: RunningServer, seeded: Seeded, pg_url: str
) -> None:
    person = seeded.accounts[0]
    engine = make_engine(pg_url)
    sessions = make_session_factory(engine)
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        signed_in = await client.post(
            "/v1/auth/sessions",
            json={"solution_code": "LOAD", "identifier": "R01", "pin": PIN},
            headers={"X-Device-Key": seeded.terminal_key},
        )
        assert signed_in.status_code == 201, signed_in.text
        token = make_badge_token(
            site_id=seeded.site.id,
            account_id=person.id,
            secret=person.badge_secret,
            step=current_step(dt.datetime.now(dt.UTC)),
        )
        line = {"item": "Menu", "quantity": 1, "unit_price_cents": 850, "vat_rate_bp": 1000}
        operations = [
            Operation(
                "/v1/till/purchases",
                {"badge_token": token, "lines": [line], "total_cents": 850},
                {"X-Device-Key": seeded.till_key, "Idempotency-Key": "crash-till"},
                "crash-till",
            ),
            Operation(
                "/v1/cash-top-ups",
                {"identifier": person.identifier, "amount_cents": 1000},
                {
                    "X-Device-Key": seeded.terminal_key,
                    "Authorization": f"Bearer {signed_in.json()['token']}",
                    "Idempotency-Key": "crash-cash",
                },
                "crash-cash",
            ),
        ]
        try:
            for op in operations:
                # The person's account row held by the test: the request stops mid-work, its
                # key claimed, while its worker is killed.
                async with sessions() as holder, holder.begin():
                    await holder.execute(
                        select(Account.id).where(Account.id == person.id).with_for_update()
                    )
                    request = asyncio.create_task(
                        client.post(op.path, json=op.body, headers=op.headers)
                    )
                    worker = server.worker_with_local_port(await _waiting_backend_port(engine))
                    assert worker is not None
                    os.kill(worker, signal.SIGKILL)
                    with pytest.raises(httpx.TransportError):
                        await request
                    # The dead worker's claim was part of its transaction: gone with it,
                    # nothing left for a retry to wait on.
                    left = await holder.scalar(
                        select(IdempotencyKey).where(IdempotencyKey.key == op.key)
                    )
                    assert left is None
                answer = await _until_answered(client, op)
                assert answer.status_code == 201, answer.text
                async with sessions() as session:
                    done = await session.scalar(
                        select(IdempotencyKey).where(IdempotencyKey.key == op.key)
                    )
                    assert done is not None and done.state == "done"
                again = await _until_answered(client, op)
                assert again.json() == answer.json()
                assert again.headers["Idempotency-Replayed"] == "true"
            async with sessions() as session:
                assert await ledger.mismatched_balances(session) == []
                balance = await session.scalar(
                    select(Account.balance_cents).where(Account.id == person.id)
                )
                assert balance == OPENING_CENTS - 850 + 1000  # each once
        finally:
            await engine.dispose()
