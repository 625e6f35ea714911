"""`kiosk roll-call` against the service served on loopback, and the copies reception terminals
keep: a terminal enrolled to keep the roll call refreshes its copy with nobody signed in; the
command prints the live list (text or CSV), or the newest copy when the service is down, and
says which; nothing at all is exit status 1."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import socket
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from kiosk.api.client import KioskClient
from kiosk.api.models import RollCall, RollCallRow, SiteRef
from kiosk.app import create_app
from kiosk.roll_call_cache import RollCallCache
from kiosk.roll_call_cli import run
from kiosk.settings import KioskSettings
from kiosk_server.models import Site
from tests.conftest import BASE_URL
from tests.factories import Factory
from tests.terminal.conftest import CALM_IDLE, SIZE, settle, wait_until
from tests.terminal.test_faults import live_service
from tests.terminal.visits_ui_support import Staff, staff

__all__ = ["live_service", "staff"]


def options(*argv: str) -> argparse.Namespace:
    return argparse.Namespace(
        csv="--csv" in argv,
        site=argv[argv.index("--site") + 1] if "--site" in argv else None,
        copies=[Path(argv[i + 1]) for i, a in enumerate(argv) if a == "--copies"],
    )


async def roll_call(settings: KioskSettings, *argv: str) -> tuple[int, str]:
    """Run the command (it runs its own event loop: in a thread, beside the served service)."""
    out = io.StringIO()
    status = await asyncio.to_thread(run, options(*argv), settings, out)
    return status, out.getvalue()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_for(port: int, key: str, data_dir: Path) -> KioskSettings:
    return KioskSettings(
        server_url=f"http://127.0.0.1:{port}",
        device_key=key,
        language="fr",
        data_dir=data_dir,
        request_timeout_seconds=2.0,
    )


async def test_prints_the_live_roll_call_as_text_or_csv(
    live_service: int, factory: Factory, site: Site, staff: Staff, tmp_path: Path
) -> None:
    await staff.visit("Léa", "Dupont", "ACME", approve=True, check_in=True)
    keeper = await factory.device([site], name="Accueil", roll_call=True)
    settings = settings_for(live_service, keeper.key, tmp_path)

    status, text = await roll_call(settings)
    assert status == 0
    assert "Appel d'évacuation — Cantine Lumière" in text
    assert "1 personne sur site" in text
    [row] = [line for line in text.splitlines() if "Dupont" in line]
    assert "Léa Dupont" in row and "ACME" in row and "Hélène Girard" in row
    assert "COPIE" not in text

    status, csv_text = await roll_call(settings, "--csv")
    assert status == 0
    assert csv_text.splitlines()[0].endswith(",live")
    assert csv_text.splitlines()[2].startswith("Dupont,Léa,ACME,Hélène Girard,")

    assert (await roll_call(settings, "--site", "NORD"))[0] == 1


async def test_a_terminal_not_enrolled_for_it_is_refused(
    live_service: int,
    factory: Factory,
    site: Site,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hall = await factory.device([site], name="Hall")
    status, text = await roll_call(settings_for(live_service, hall.key, tmp_path))
    assert (status, text) == (1, "")
    assert "terminals roll-call ID on" in capsys.readouterr().err


async def test_the_newest_kept_copy_when_the_service_is_down(
    service_app: FastAPI,
    factory: Factory,
    site: Site,
    staff: Staff,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await staff.visit("Léa", "Dupont", "ACME", approve=True, check_in=True)
    keeper = await factory.device([site], name="Accueil", roll_call=True)
    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    copy = RollCallCache(here, "CANTINE").path

    # The kiosk keeps the copy fresh with nobody signed in (its welcome screen shown).
    def client() -> KioskClient:
        transport = httpx.ASGITransport(app=service_app, raise_app_exceptions=False)
        return KioskClient(BASE_URL, keeper.key, timeout=5.0, transport=transport)

    settings = KioskSettings(
        server_url=BASE_URL, device_key=keeper.key, language="fr", idle=CALM_IDLE, data_dir=here
    )
    app = create_app(settings, client_factory=client)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, copy.exists)
        await settle(pilot)
        assert app.session is None
    assert copy.stat().st_mode & 0o777 == 0o600

    # Another terminal's older copy, gathered elsewhere: the newer one is printed.
    old = RollCall(
        site=SiteRef(code="CANTINE", name="Cantine Lumière"),
        generated_at=dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC),
        people=[
            RollCallRow(
                visitor_id=1,
                visit_id=1,
                first_name="Old",
                last_name="Copy",
                company="",
                host_name="",
                place="",
                checked_in_at=dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC),
                arrival_until=dt.time(10),
                overdue=False,
            )
        ],
    )
    RollCallCache(elsewhere, "CANTINE").save(old)

    down = settings_for(closed_port(), keeper.key, here)
    status, text = await roll_call(down, "--copies", str(elsewhere))
    assert status == 3
    assert "Léa Dupont" in text and "Old Copy" not in text
    assert "COPIE LOCALE" in text
    assert "ne peut pas donner l'appel" in capsys.readouterr().err
    status, csv_text = await roll_call(down, "--csv", "--copies", str(elsewhere))
    assert status == 3 and "local copy" in csv_text.splitlines()[0]

    # Only the older copy: it is printed, still saying it is a copy.
    copy.unlink()
    status, text = await roll_call(down, "--copies", str(elsewhere))
    assert status == 3 and "Old Copy" in text

    # No copy anywhere: nothing to print.
    status, text = await roll_call(settings_for(closed_port(), keeper.key, tmp_path / "none"))
    assert (status, text) == (1, "")
