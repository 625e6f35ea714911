"""End to end, as a site runs it: an admin sets a site up with the `kiosk-server` commands, the
service runs as its own process on a loopback port, and the real terminal app talks to it over
HTTP. A person activates their account with the code the outbox holds, then signs in again."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kiosk.app import create_app
from kiosk.screens.choose_pin import ChoosePinScreen
from kiosk.screens.home import HomeScreen
from kiosk.screens.pin import PinScreen
from kiosk.screens.verification import VerificationScreen
from kiosk.settings import KioskSettings
from kiosk_server.http_protocol import MAX_REQUESTS_PER_CONNECTION
from tests.processes import kiosk_server, run_command
from tests.terminal.conftest import CALM_IDLE, SIZE, screen_text, settle, type_text


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    database_url: str
    device_key: str
    env: dict[str, str]


def _kiosk_server(env: dict[str, str], *args: str) -> str:
    """Run one `kiosk-server` admin command as an admin would, and return what it printed."""
    done = run_command(["kiosk_server.cli", *args], env)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    env = dict(
        os.environ,
        KIOSK_DATA_DIR=str(tmp_path / "data"),
        # Cheap argon2: this test is about the path, not the hashing cost.
        KIOSK_SERVER_ARGON2_TIME_COST="1",
        KIOSK_SERVER_ARGON2_MEMORY_COST_KIB="8",
        KIOSK_SERVER_ARGON2_PARALLELISM="1",
    )
    url = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "identifier,name,email,phone,roles\n42,Zoé Lambert,zoe.lambert@example.com,,\n",
        encoding="utf-8",
    )
    _kiosk_server(env, "--database-url", url, "site", "create", "ACME", "--name", "ACME Lyon")
    _kiosk_server(env, "--database-url", url, "accounts", "import", "ACME", str(accounts))
    enrolled = _kiosk_server(
        env, "--database-url", url, "terminals", "enrol",
        "--name", "Canteen 1", "--role", "terminal", "--site", "ACME",
    )  # fmt: skip
    key_line = re.search(r"^Device key: (\S+)$", enrolled, re.MULTILINE)
    assert key_line is not None, enrolled
    with kiosk_server(["--database-url", url], env, tmp_path / "server.log") as base_url:
        yield RunningServer(base_url, url, key_line.group(1), env)


def _last_code(server: RunningServer) -> str:
    """The verification code, read from the outbox the way the README tells a person to."""
    printed = _kiosk_server(server.env, "--database-url", server.database_url, "outbox")
    newest = re.search(r"\b(\d{6})\b", printed)  # The newest message comes first.
    assert newest is not None, printed
    return newest.group(1)


async def test_a_person_activates_then_signs_in_against_kiosk_server(
    server: RunningServer,
) -> None:
    settings = KioskSettings(
        server_url=server.base_url, device_key=server.device_key, language="fr", idle=CALM_IDLE
    )
    app = create_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # The terminal serves one site: no solution code to type.
        await pilot.press("enter")
        await type_text(pilot, "42")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, VerificationScreen)
        await pilot.click("#send")
        await settle(pilot)
        assert "z***@example.com" in screen_text(app)
        await type_text(pilot, _last_code(server))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ChoosePinScreen)
        for _ in range(2):
            await type_text(pilot, "582043")
            await pilot.press("enter")
            await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert "Zoé Lambert" in screen_text(app)
        assert "0,00\xa0€" in screen_text(app)

        app.end_session()
        await settle(pilot)
        await pilot.press("enter")
        await type_text(pilot, "42")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PinScreen)
        await type_text(pilot, "582043")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert "Zoé Lambert" in screen_text(app)


async def test_a_long_kept_connection_is_renewed_and_the_client_carries_on(
    server: RunningServer,
) -> None:
    """The service closes a keep-alive connection after so many requests, so that a busy
    worker sheds connections to idle ones; a client reconnects and sees nothing of it."""
    async with httpx.AsyncClient(
        base_url=server.base_url, headers={"X-Device-Key": server.device_key}
    ) as client:
        answers = [await client.get("/v1/device") for _ in range(MAX_REQUESTS_PER_CONNECTION + 20)]
    assert [answer.status_code for answer in answers] == [200] * len(answers)
    assert answers[-1].json()["name"] == "Canteen 1"
    closing = [i for i, answer in enumerate(answers) if answer.headers.get("connection") == "close"]
    assert closing == [MAX_REQUESTS_PER_CONNECTION - 1]
