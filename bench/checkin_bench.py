"""Visitor check-in latency at the kiosk, embedded mode (issue 6, "Measured"): from the moment
the invitation is read to the host's notification being stored.

The service stores the host's `visitor_arrived` notification in the same transaction as the
check-in, so the check-in request, end to end through the terminal's own client, is the
measure. Embedded mode as the kiosk runs it: the real service in uvicorn on a thread of this
process, on 127.0.0.1, on a SQLite file, seeded with the demo sites. The demo host (DEMO/1001)
declares visits for today, reception (DEMO/2001) approves them; each visitor's invitation token
is read from the database as the QR in their email carries it. Then, per visitor:

- `check-in`: `desk_check_in(token)` alone (the visitor has already accepted the rules);
- `lookup + check-in`: `desk_lookup(token)` (what the kiosk does on reading the QR) and then
  `desk_check_in(token)`, without the time the visitor spends reading.

At the end the notification rows are counted: one per check-in.

    uv run python bench/checkin_bench.py [--visitors 200]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from kiosk.api.client import KioskClient
from kiosk.api.models import VisitorInput

PER_VISIT = 10
"""Visitors per declared visit."""


def report(label: str, timings: list[float]) -> None:
    timings = sorted(timings)
    p50 = statistics.median(timings)
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    print(
        f"  {label:22s} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   max {timings[-1]:6.2f} ms"
        f"   ({len(timings)} check-ins)"
    )


async def declare(base_url: str, device_key: str, visitors: int) -> list[int]:
    """Visits for today (all day), approved; returns the visitor ids."""
    today = dt.datetime.now(ZoneInfo("Europe/Paris")).date()
    visit_ids: list[int] = []
    async with KioskClient(base_url, device_key) as host:
        await host.sign_in("DEMO", "1001", "246810")
        for start in range(0, visitors, PER_VISIT):
            people = [
                VisitorInput(
                    first_name=f"Visiteur{n}",
                    last_name=f"Banc{n}",
                    company="Bench & Co",
                    email=f"visiteur{n}@example.com",
                )
                for n in range(start, min(visitors, start + PER_VISIT))
            ]
            created = await host.create_visit(
                people,
                first_day=today,
                arrival_from=dt.time(0, 0),
                arrival_until=dt.time(23, 59),
                reason="Banc d'essai",
                submit=True,
            )
            visit_ids.append(created.id)
        await host.sign_out()
    visitor_ids: list[int] = []
    async with KioskClient(base_url, device_key) as desk:
        await desk.sign_in("DEMO", "2001", "135790")
        for visit_id in visit_ids:
            approved = await desk.approve_visit(visit_id)
            visitor_ids.extend(v.id for v in approved.visitors)
        await desk.sign_out()
    return visitor_ids


async def tokens_and_notifications(database: Path, visitor_ids: list[int]) -> tuple[list[str], int]:
    """The visitors' invitation tokens, and the number of `visitor_arrived` notifications."""
    from kiosk_server.db import make_engine, make_session_factory
    from kiosk_server.models import Notification, Site, Visit, VisitVisitor
    from kiosk_server.services.invitations import token_for

    engine = make_engine(f"sqlite:///{database}")
    try:
        async with make_session_factory(engine)() as session:
            tokens = []
            for visitor_id in visitor_ids:
                visitor = await session.get(VisitVisitor, visitor_id)
                assert visitor is not None
                visit = await session.get(Visit, visitor.visit_id)
                assert visit is not None
                site = await session.get(Site, visit.site_id)
                assert site is not None
                tokens.append(token_for(site, visitor, visit))
            arrived = await session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.kind == "visitor_arrived")
            )
        return tokens, int(arrived or 0)
    finally:
        await engine.dispose()


async def check_in_all(
    base_url: str, device_key: str, tokens: list[str], with_lookup: bool
) -> list[float]:
    timings: list[float] = []
    async with KioskClient(base_url, device_key) as kiosk:
        await kiosk.device()  # warm the connection, as a running kiosk has
        for token in tokens:
            start = time.perf_counter()
            if with_lookup:
                visit = await kiosk.desk_lookup(token=token, language="fr")
                assert visit.action == "check_in"
            badge = await kiosk.desk_check_in(rules_accepted=True, token=token, language="fr")
            timings.append((time.perf_counter() - start) * 1000)
            assert badge.checkout_token == token
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=200)
    args = parser.parse_args()
    half = max(1, args.visitors // 2)

    from kiosk.embedded import DATABASE_FILE, EmbeddedService

    with tempfile.TemporaryDirectory() as data:
        os.environ["KIOSK_DATA_DIR"] = data
        service = EmbeddedService()
        service.start(Path(data))
        endpoint = service.wait_ready(timeout=60)
        try:
            base, key = endpoint.base_url, endpoint.device_key
            visitor_ids = asyncio.run(declare(base, key, 2 * half))
            database = Path(data) / DATABASE_FILE
            tokens, before = asyncio.run(tokens_and_notifications(database, visitor_ids))
            alone = asyncio.run(check_in_all(base, key, tokens[:half], with_lookup=False))
            both = asyncio.run(check_in_all(base, key, tokens[half:], with_lookup=True))
            _, after = asyncio.run(tokens_and_notifications(database, []))
        finally:
            service.stop()
    print("Visitor check-in, embedded (SQLite, uvicorn in a thread, loopback HTTP):")
    report("check-in", alone)
    report("lookup + check-in", both)
    print(f"  host notifications stored: {after - before} for {len(tokens)} check-ins")
    assert after - before == len(tokens)


if __name__ == "__main__":
    main()
