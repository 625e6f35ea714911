"""Fixtures of the terminal tests: the real service (tests/conftest.py) with a site and an
enrolled terminal, and the kiosk app built on a client whose transport goes straight into the
service's ASGI app."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input

from kiosk.api.client import KioskClient
from kiosk.app import KioskApp, create_app
from kiosk.i18n import set_language
from kiosk.settings import IdleSettings, KioskSettings
from kiosk_server.models import Site
from tests.conftest import BASE_URL
from tests.factories import EnrolledDevice, Factory

PIN = "415926"
"""The PIN of the active accounts the tests create."""

SIZE = (100, 30)

# Idle times long enough never to interfere with a test that is not about idling.
CALM_IDLE = IdleSettings(default_seconds=600, countdown_seconds=600, typing_seconds=600)

KioskFactory = Callable[..., KioskApp]


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: the terminal tests exercise the screens; the service's own tests cover
    PostgreSQL."""
    path = tmp_path / "kiosk.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(autouse=True)
def _default_language() -> None:
    # The current language is process-wide: each test starts from the app's own setting.
    set_language("fr")


@pytest.fixture
async def site(factory: Factory) -> Site:
    return await factory.site("CANTINE")


@pytest.fixture
async def terminal(factory: Factory, site: Site) -> EnrolledDevice:
    return await factory.device([site], name="Borne hall")


@pytest.fixture
def make_kiosk(service_app: FastAPI, terminal: EnrolledDevice) -> KioskFactory:
    """Builds the kiosk app on the real service; keyword arguments override its settings."""

    def build(**overrides: Any) -> KioskApp:
        values: dict[str, Any] = {
            "server_url": BASE_URL,
            "device_key": terminal.key,
            "language": "fr",
            "idle": CALM_IDLE,
        }
        values.update(overrides)
        settings = KioskSettings(**values)

        def client() -> KioskClient:
            transport = httpx.ASGITransport(app=service_app, raise_app_exceptions=False)
            return KioskClient(BASE_URL, terminal.key, timeout=5.0, transport=transport)

        return create_app(settings, client_factory=client)

    return build


POLLING_GROUPS = frozenset({"follow", "wait"})
"""Worker groups that poll until something outside the app changes (a top-up until it is paid, a
walk-in until the host answers): `settle` does not wait for them; `wait_until` waits for what they
bring."""

QUIET_ROUNDS = 2
"""How many rounds in a row with no worker running make the app settled."""

SETTLE_SECONDS = 60.0
"""How long the other workers may run before `settle` fails naming them: far beyond any request
on a loaded machine, well inside the per-test limit."""


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until every worker is done (failed ones included), the pollers aside, and the screen
    caught up; past `SETTLE_SECONDS` fail, naming the workers still running."""
    app = pilot.app
    deadline = time.monotonic() + SETTLE_SECONDS
    quiet = 0
    while True:
        await pilot.pause()
        running = [
            worker
            for worker in app.workers
            if not worker.is_finished and worker.group not in POLLING_GROUPS
        ]
        if not running:
            # Quiet twice in a row: a callback the last message scheduled (a dialog's answer
            # starting a call) has had its turn to start a worker.
            quiet += 1
            if quiet == QUIET_ROUNDS:
                break
            continue
        quiet = 0
        if time.monotonic() > deadline:
            names = ", ".join(
                f"{worker.name or worker.group!r} ({worker.group})" for worker in running
            )
            raise AssertionError(f"workers still running after {SETTLE_SECONDS:g} s: {names}")
        # Asked, not awaited: cancelling a `Worker.wait()` at a deadline would cancel the worker.
        await pilot.pause(0.01)
    await pilot.pause()


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool]) -> None:
    """Let the app run (its timers, its pollers, a video at its own pace) until `condition()`
    holds, then let the screen catch up. No limit of its own: how long it takes is the machine's,
    and the per-test limit stops a condition that never comes, with a stack."""
    while not condition():
        await pilot.pause(0.02)
    await pilot.pause()


def widget_text(widget: Widget) -> str:
    """What a widget shows."""
    if isinstance(widget, Input):
        return widget.value
    try:
        return str(widget.render())
    except Exception:  # noqa: BLE001 - containers and the like render nothing useful
        return ""


def all_text(app: KioskApp) -> str:
    """The text of every widget on every screen of the stack."""
    parts: list[str] = []
    for screen in app.screen_stack:
        for widget in screen.walk_children(Widget, with_self=False):
            parts.append(widget_text(widget))
    return "\n".join(parts)


def screen_text(app: KioskApp) -> str:
    """The text of the screen on top."""
    return "\n".join(
        widget_text(widget) for widget in app.screen.walk_children(Widget, with_self=False)
    )


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type `text` key by key, as a person would."""
    await pilot.press(*text)


def stack(app: KioskApp) -> list[type[Any]]:
    """The types of the screens on the stack, bottom first (the welcome screen, for good)."""
    return [type(screen) for screen in app.screen_stack]
