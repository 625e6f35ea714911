"""Ticket history in embedded mode: 10,000 tickets for one person, the time from pushing the
tickets screen to its first page drawn, and the time of each page load while scrolling to the
end.

    uv run python bench/tickets_bench.py [--tickets 10000]

The embedded service runs as the kiosk runs it (uvicorn in a thread of this process, SQLite in a
temporary data directory, the demo seed); the tickets are written straight into its database for
DEMO/1001; the terminal is the real app, driven headless by Textual's pilot.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from textual.pilot import Pilot

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.api.client import KioskClient
from kiosk.app import create_app
from kiosk.embedded import DATABASE_FILE, EmbeddedService
from kiosk.screens.tickets import TicketsScreen
from kiosk.settings import KioskSettings
from kiosk_server.clock import SystemClock
from kiosk_server.db import make_engine, make_session_factory
from kiosk_server.models import Account, Site
from kiosk_server.security import Argon2
from tests.factories import Factory

DEMO_PIN = "246810"


async def seed(database: Path, count: int) -> None:
    from sqlalchemy import select

    engine = make_engine(f"sqlite:///{database}")
    try:
        factory = Factory(
            make_session_factory(engine),
            clock=SystemClock(),
            argon2=Argon2(time_cost=1, memory_cost_kib=8, parallelism=1),
        )
        async with factory.session_factory() as session:
            account = (
                await session.execute(
                    select(Account)
                    .join(Site, Site.id == Account.site_id)
                    .where(Site.code == "DEMO", Account.identifier == "1001")
                )
            ).scalar_one()
        start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=4 * count)
        await factory.ticket_history(account, count, start=start, every=dt.timedelta(hours=4))
    finally:
        await engine.dispose()


async def first_page(pilot: Pilot[None]) -> tuple[TicketsScreen, float]:
    """Push a tickets screen; milliseconds until its first page is drawn."""
    screen = TicketsScreen()
    started = time.perf_counter()
    await pilot.app.push_screen(screen)
    while screen.pages_loaded < 1:
        await pilot.pause(0.001)
    # Drawn: the next refresh after the rows are in the list.
    await pilot.pause()
    return screen, (time.perf_counter() - started) * 1000


async def drive(base_url: str, device_key: str) -> tuple[float, float, list[float], int]:
    settings = KioskSettings(server_url=base_url, device_key=device_key, language="fr")
    app = create_app(settings, client_factory=lambda: KioskClient(base_url, device_key))
    async with app.run_test(size=(100, 30)) as pilot:
        while app.connection != "ready":
            await pilot.pause(0.01)
        me = await app.api().sign_in("DEMO", "1001", DEMO_PIN)
        app.open_session(me)
        await pilot.pause(0.2)
        screen, first = await first_page(pilot)
        pages: list[float] = []
        while not screen.complete:
            loaded = screen.pages_loaded
            began = time.perf_counter()
            await pilot.press("end")
            while screen.pages_loaded == loaded and not screen.complete:
                await pilot.pause(0.001)
            await pilot.pause()
            pages.append((time.perf_counter() - began) * 1000)
        shown = len(screen.tickets)
        app.pop_screen()
        await pilot.pause()
        _again, warm = await first_page(pilot)
        return first, warm, pages, shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        os.environ["KIOSK_DATA_DIR"] = data
        service = EmbeddedService()
        service.start(Path(data))
        endpoint = service.wait_ready(timeout=60)
        try:
            began = time.perf_counter()
            asyncio.run(seed(Path(data) / DATABASE_FILE, args.tickets))
            print(f"seeded {args.tickets} tickets in {time.perf_counter() - began:.1f} s")
            first, warm, pages, shown = asyncio.run(drive(endpoint.base_url, endpoint.device_key))
        finally:
            service.stop()
    pages.sort()
    print(f"tickets screen, embedded (SQLite), {shown} tickets listed")
    print(f"  first page drawn after push   {first:7.1f} ms   (target <= 200 ms; first opening)")
    print(f"  again, opened a second time   {warm:7.1f} ms")
    print(
        f"  page loads while scrolling    p50 {statistics.median(pages):6.1f} ms   "
        f"p95 {pages[int(len(pages) * 0.95) - 1]:6.1f} ms   max {pages[-1]:6.1f} ms   "
        f"({len(pages)} pages)"
    )


if __name__ == "__main__":
    main()
