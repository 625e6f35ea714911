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
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import RenderableType
from textual.pilot import Pilot
from textual.screen import Screen

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.api.client import KioskClient
from kiosk.app import KioskApp, create_app
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


class Frames:
    """When each frame reached the terminal, and how many pages the tickets screen had then.

    Headless, Textual still composes every frame and hands it to `App._display` (Textual is
    pinned, so this private hook is stable for us); a frame drawn after a page was added shows
    that page's rows. This is what a person sees, unlike `pilot.pause()`, which waits until the
    whole process is idle (the next page's prefetch and the service thread included) and sleeps
    in 20 ms steps.
    """

    def __init__(self, app: KioskApp) -> None:
        self.screen: TicketsScreen | None = None
        self.frames: list[tuple[float, float, int]] = []
        display = app._display

        def timed(screen: Screen[object], renderable: RenderableType | None) -> None:
            display(screen, renderable)
            if renderable is not None and self.screen is not None:
                now = (time.perf_counter(), time.process_time())
                self.frames.append((*now, self.screen.pages_loaded))

        app._display = timed  # type: ignore[method-assign]

    def first_with(self, pages: int, after: float) -> tuple[float, float] | None:
        """When the first frame showing at least `pages` pages was drawn (wall clock, and the
        process's CPU time: the UI and the service thread together)."""
        return next(
            ((at, cpu) for at, cpu, shown in self.frames if shown >= pages and at >= after),
            None,
        )


class Collections:
    """Pauses of Python's cycle collector (it holds the GIL: the UI and the embedded service
    both stop), the longest per generation."""

    def __init__(self) -> None:
        self.longest: dict[int, float] = {}
        self.count: dict[int, int] = {}
        self._began = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        generation = info["generation"]
        pause = (time.perf_counter() - self._began) * 1000
        self.count[generation] = self.count.get(generation, 0) + 1
        self.longest[generation] = max(self.longest.get(generation, 0.0), pause)

    def report(self) -> str:
        return ", ".join(
            f"gen{generation} {self.count[generation]}x longest {self.longest[generation]:.0f} ms"
            for generation in sorted(self.count)
        )


@dataclass
class Figures:
    """Milliseconds, for one opening of the screen and a scroll to the end."""

    drawn: float = 0.0
    drawn_cpu: float = 0.0
    settled: float = 0.0
    pages_drawn: list[float] = field(default_factory=list)
    pages_cpu: list[float] = field(default_factory=list)
    pages_settled: list[float] = field(default_factory=list)
    shown: int = 0


async def open_screen(pilot: Pilot[None], frames: Frames) -> tuple[TicketsScreen, Figures]:
    """Push a tickets screen: when its first page is drawn, and when the process is idle."""
    screen = TicketsScreen()
    frames.screen = screen
    started, cpu = time.perf_counter(), time.process_time()
    await pilot.app.push_screen(screen)
    while screen.pages_loaded < 1:
        await pilot.pause(0.001)
    await pilot.pause()
    figures = Figures(settled=(time.perf_counter() - started) * 1000)
    drawn = frames.first_with(1, started)
    assert drawn is not None, "the first page was never drawn"
    figures.drawn = (drawn[0] - started) * 1000
    figures.drawn_cpu = (drawn[1] - cpu) * 1000
    return screen, figures


async def scroll_to_end(
    pilot: Pilot[None], screen: TicketsScreen, frames: Frames, figures: Figures
) -> None:
    """`End` again and again: each press reaches the end of what is loaded and asks for the
    next page; the time until that page's rows are drawn, and until the process is idle."""
    while not screen.complete:
        loaded = screen.pages_loaded
        began, cpu = time.perf_counter(), time.process_time()
        await pilot.press("end")
        while screen.pages_loaded == loaded and not screen.complete:
            await pilot.pause(0.001)
        await pilot.pause()
        figures.pages_settled.append((time.perf_counter() - began) * 1000)
        drawn = frames.first_with(loaded + 1, began)
        if drawn is not None:
            figures.pages_drawn.append((drawn[0] - began) * 1000)
            figures.pages_cpu.append((drawn[1] - cpu) * 1000)
    figures.shown = len(screen.tickets)


async def drive(base_url: str, device_key: str, openings: int, *, freeze: bool) -> list[Figures]:
    settings = KioskSettings(server_url=base_url, device_key=device_key, language="fr")
    app = create_app(settings, client_factory=lambda: KioskClient(base_url, device_key))
    frames = Frames(app)
    results: list[Figures] = []
    async with app.run_test(size=(100, 30)) as pilot:
        while app.connection != "ready":
            await pilot.pause(0.01)
        if freeze:
            # What the kiosk could do once started, before anyone signs in: everything alive
            # now (modules, the service, Textual) leaves the collector's generations for good,
            # so that a full collection walks only what was made since.
            gc.collect()
            gc.freeze()
        me = await app.api().sign_in("DEMO", "1001", DEMO_PIN)
        app.open_session(me)
        await pilot.pause(0.2)
        for opening in range(openings):
            screen, figures = await open_screen(pilot, frames)
            if opening == 0:
                await scroll_to_end(pilot, screen, frames, figures)
            results.append(figures)
            app.pop_screen()
            await pilot.pause()
    return results


def _spread(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (
        f"p50 {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms   "
        f"max {ordered[-1]:6.1f} ms   ({len(ordered)} pages)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--openings", type=int, default=5, help="times the screen is opened")
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() once the kiosk has started"
    )
    parser.add_argument("--seed", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed is not None:
        asyncio.run(seed(args.seed, args.tickets))
        return
    with tempfile.TemporaryDirectory() as data:
        os.environ["KIOSK_DATA_DIR"] = data
        service = EmbeddedService()
        service.start(Path(data))
        endpoint = service.wait_ready(timeout=60)
        try:
            began = time.perf_counter()
            # In a process of its own: seeding here would leave this one warmer than a kiosk's.
            subprocess.run(
                [sys.executable, __file__, "--seed", str(Path(data) / DATABASE_FILE)]
                + ["--tickets", str(args.tickets)],
                check=True,
            )
            print(f"seeded {args.tickets} tickets in {time.perf_counter() - began:.1f} s")
            collections = Collections()
            results = asyncio.run(
                drive(endpoint.base_url, endpoint.device_key, args.openings, freeze=args.gc_freeze)
            )
        finally:
            service.stop()
    first, again = results[0], results[1:]
    print(
        f"tickets screen, embedded (SQLite), {first.shown} tickets listed, 100x30"
        + (", gc.freeze() after start" if args.gc_freeze else "")
        + f"; load average {_load()} on {os.cpu_count()} CPUs"
    )
    print("  first page, from push to the frame that shows it (target <= 200 ms):")
    print(
        f"    first opening in the process  {first.drawn:7.1f} ms"
        f"   (CPU of the process meanwhile {first.drawn_cpu:6.1f} ms)"
    )
    if again:
        drawn = sorted(figures.drawn for figures in again)
        cpu = statistics.median(figures.drawn_cpu for figures in again)
        print(
            f"    opened again, {len(again)} times         median {statistics.median(drawn):6.1f} ms"
            f"   max {drawn[-1]:6.1f} ms   (CPU median {cpu:6.1f} ms)"
        )
    print("  page loads while scrolling (End), key press to the frame with the new rows:")
    print(f"    {_spread(first.pages_drawn)}")
    print(f"    CPU of the process meanwhile: median {statistics.median(first.pages_cpu):6.1f} ms")
    print("  the same, until the whole process is idle (pilot.pause(): 20 ms steps, prefetch too):")
    print(f"    first page {first.settled:7.1f} ms; page loads {_spread(first.pages_settled)}")
    print(f"  cycle collector pauses (whole run): {collections.report()}")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
