"""Fixtures of the terminal tests: the real service (tests/conftest.py) with a site and an
enrolled terminal, and the kiosk app built on a client whose transport goes straight into the
service's ASGI app."""

from __future__ import annotations

import asyncio
import shutil
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


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until every worker is done (failed ones included) and the screen caught up."""
    app = pilot.app
    for _ in range(50):
        await pilot.pause()
        running = [worker for worker in app.workers if worker.is_running]
        if not running:
            break
        await asyncio.gather(*(worker.wait() for worker in running), return_exceptions=True)
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
    """The types of the screens on the stack, above Textual's blank bottom screen."""
    return [type(screen) for screen in app.screen_stack[1:]]
