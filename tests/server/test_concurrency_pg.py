"""Money under real concurrency: `kiosk-server --workers 2` on PostgreSQL, on loopback, with
20 concurrent clients sending over 1,000 purchases and cash top-ups, some retried with the same
key, some connections dropped before the answer is read. Afterwards the ledger must be whole."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from kiosk_server.clock import SystemClock
from kiosk_server.db import make_engine, make_session_factory
from kiosk_server.models import Account, IdempotencyKey, LedgerEntry, Site, Ticket
from kiosk_server.security import Argon2
from kiosk_server.services import ledger
from kiosk_server.tokens import current_step, make_badge_token
from tests.conftest import truncate_all
from tests.factories import Factory
from tests.processes import kiosk_server
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
def server(pg_url: str, tmp_path: Path) -> Iterator[str]:
    """The real `kiosk-server` with two workers, on a free loopback port."""
    env = {**os.environ, **CHEAP_ARGON2, "KIOSK_DATA_DIR": str(tmp_path / "data")}
    env.pop("KIOSK_SERVER_DATABASE_URL", None)
    args = ["--database-url", pg_url, "--workers", "2"]
    with kiosk_server(args, env, tmp_path / "server.log") as base:
        yield base


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


async def _until_answered(client: httpx.AsyncClient, op: Operation) -> httpx.Response:
    """Send, retrying with the same key while the first attempt is still in progress."""
    # No count of tries: how long the first attempt takes is the machine's (the per-test limit
    # bounds it).
    while True:
        answer = await client.post(op.path, json=op.body, headers=op.headers)
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
            answer = await _until_answered(client, op)
            if answer.status_code == 201:
                seen.successes[op.key] = answer.json()
                if rng.random() < 0.1:
                    again = await _until_answered(client, op)
                    assert again.status_code == 201
                    assert again.json() == answer.json()
                    assert again.headers["Idempotency-Replayed"] == "true"
                    seen.replays_checked += 1
            else:
                assert answer.status_code in (403, 409, 410, 422), answer.text
                seen.refusals[op.key] = answer.status_code


async def test_a_thousand_concurrent_money_requests_leave_the_ledger_whole(
    server: str, seeded: Seeded, pg_url: str
) -> None:
    port = int(server.rsplit(":", 1)[1])
    rng = random.Random(20261126)
    async with httpx.AsyncClient(
        base_url=server, headers={"X-Device-Key": seeded.terminal_key}
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
    await asyncio.gather(
        *(_client(server, port, queue, random.Random(i), seen) for i in range(CLIENTS))
    )

    assert seen.dropped > 0 and seen.replays_checked > 0
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
