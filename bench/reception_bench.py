"""The reception desk with 2,000 visitors on the day: time to the first draw of the lists, and
the cost of a search-as-you-type keystroke.

    uv run python bench/reception_bench.py [--visitors 2000]

Targets from the visits issue: first draw <= 300 ms, a keystroke <= 100 ms. The service runs
in-process on a SQLite file (the terminal's client talks to it through httpx's ASGI transport,
as in the tests), with the visits written straight into the database.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from kiosk.api.client import KioskClient
from kiosk.app import create_app
from kiosk.screens.reception import ReceptionScreen
from kiosk.settings import IdleSettings, KioskSettings
from kiosk.widgets.visitor_table import VisitorTable
from kiosk_server.app import create_app as create_service
from kiosk_server.clock import ManualClock
from kiosk_server.db import upgrade
from kiosk_server.models import Visit, VisitVisitor
from kiosk_server.settings import ServerSettings
from tests.factories import Factory

BASE_URL = "http://kiosk.bench"
PIN = "415926"
DAY = dt.date(2026, 11, 2)
FIRST = ["Léa", "Marc", "Zoé", "Hugo", "Inès", "Paul", "Chloé", "Louis", "Emma", "Noah"]
LAST = ["Dupont", "Durand", "Martin", "Bernard", "Petit", "Robert", "Richard", "Moreau"]
QUERY = "dupont acme 1"


async def run(visitors: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="reception-bench-"))
    url = f"sqlite:///{folder / 'kiosk.sqlite3'}"
    await asyncio.to_thread(upgrade, url)
    clock = ManualClock()
    service = create_service(
        ServerSettings(
            database_url=url, argon2_time_cost=1, argon2_memory_cost_kib=8, argon2_parallelism=1
        ),
        clock=clock,
    )
    async with service.router.lifespan_context(service):
        factory = Factory(service.state.session_factory, clock=clock, argon2=service.state.argon2)
        site = await factory.site("CANTINE")
        await factory.account(site, "R1", name="Rémi Accueil", pin=PIN, roles=["reception"])
        hosts = [
            await factory.account(site, f"H{n}", name=f"Hôte {n} Girard", pin=PIN)
            for n in range(40)
        ]
        device = await factory.device([site], name="Accueil")
        now = clock.now()
        async with service.state.session_factory() as session:
            for n in range(visitors):
                state = ("requested", "approved", "checked_in", "checked_out")[n % 4]
                visit = Visit(
                    site_id=site.id,
                    host_account_id=hosts[n % len(hosts)].id,
                    state=state,
                    first_day=DAY,
                    last_day=DAY,
                    arrival_from=dt.time(8),
                    arrival_until=dt.time(18),
                    reason="Réunion",
                    place="",
                    created_at=now,
                    updated_at=now,
                )
                session.add(visit)
                await session.flush()
                session.add(
                    VisitVisitor(
                        visit_id=visit.id,
                        first_name=FIRST[n % len(FIRST)],
                        last_name=f"{LAST[n % len(LAST)]} {n}",
                        company=f"ACME {n % 50}" if n % 3 else f"Globex {n % 50}",
                        email=f"v{n}@example.com",
                        checked_in_at=now if state in ("checked_in", "checked_out") else None,
                        checked_out_at=now if state == "checked_out" else None,
                    )
                )
            await session.commit()

        def client() -> KioskClient:
            transport = httpx.ASGITransport(app=service, raise_app_exceptions=False)
            return KioskClient(BASE_URL, device.key, transport=transport)

        settings = KioskSettings(
            server_url=BASE_URL,
            device_key=device.key,
            idle=IdleSettings(default_seconds=3600, countdown_seconds=600, typing_seconds=3600),
            data_dir=folder / "data",
        )
        app = create_app(settings, client_factory=client)
        async with app.run_test(size=(120, 40)) as pilot:
            while app.connection != "ready":
                await pilot.pause(0.01)
            me = await app.api().sign_in("CANTINE", "R1", PIN)
            app.open_session(me)
            await pilot.pause()
            fetches: list[float] = []
            for _ in range(3):
                started = time.perf_counter()
                day = await app.api().reception_day()
                fetches.append((time.perf_counter() - started) * 1000)
            rows = len(day.expected) + len(day.on_site) + len(day.left)

            draws: list[float] = []
            for _ in range(5):
                started = time.perf_counter()
                screen = ReceptionScreen()
                await app.push_screen(screen)
                while screen.refreshes == 0:
                    await asyncio.sleep(0.001)
                await pilot.pause()  # the frame with the rows
                draws.append((time.perf_counter() - started) * 1000)
                await app.pop_screen()
                await pilot.pause()

            screen = ReceptionScreen()
            await app.push_screen(screen)
            while screen.refreshes == 0:
                await asyncio.sleep(0.001)
            await pilot.pause()
            table = screen.query_one(VisitorTable)
            screen.query_one("#reception-search").focus()
            keys: list[float] = []
            for _ in range(5):
                for char in QUERY:
                    started = time.perf_counter()
                    await pilot.press("space" if char == " " else char)
                    keys.append((time.perf_counter() - started) * 1000)
                for _char in QUERY:
                    started = time.perf_counter()
                    await pilot.press("backspace")
                    keys.append((time.perf_counter() - started) * 1000)
            filters: list[float] = []
            for _ in range(50):
                started = time.perf_counter()
                table.filter("a")
                for y in range(table.size.height):
                    table.render_line(y)
                filters.append((time.perf_counter() - started) * 1000)

    keys.sort()
    print(
        f"visitors on the day: {rows} (expected {len(day.expected)}, on site "
        f"{len(day.on_site)}, left {len(day.left)})"
    )
    print(
        f"of which the service's answer (in-process, same loop): median "
        f"{statistics.median(fetches):.0f} ms"
    )
    print(
        f"first draw (screen pushed → lists drawn, fetch included): median "
        f"{statistics.median(draws):.0f} ms, max {max(draws):.0f} ms  [target <= 300 ms]"
    )
    print(
        f"search keystroke (key → filtered lists drawn): median {statistics.median(keys):.1f} ms,"
        f" p95 {keys[int(len(keys) * 0.95)]:.1f} ms, max {keys[-1]:.1f} ms  [target <= 100 ms]"
    )
    print(
        f"filter over {len(day.expected)} rows + drawing the lines in view: median "
        f"{statistics.median(filters):.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visitors", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(run(args.visitors))


if __name__ == "__main__":
    main()
