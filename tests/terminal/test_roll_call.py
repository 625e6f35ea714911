"""The evacuation roll call on the reception terminal: who is on site with their host and
arrival time; the local copy (mode 0600 in a 0700 directory) shown with its age when the service
cannot be reached; the CSV export, with formula cells guarded."""

from __future__ import annotations

import csv
import datetime as dt
import socket
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from kiosk.screens import roll_call as roll_call_screen
from kiosk.screens.reception import ReceptionScreen
from kiosk.screens.roll_call import RollCallScreen
from kiosk.settings import PrinterSettings
from kiosk.widgets.visitor_table import VisitorTable
from tests.terminal.conftest import SIZE, KioskFactory, screen_text, settle
from tests.terminal.visits_ui_support import Staff, sign_in, staff

__all__ = ["staff"]


def drawn(table: VisitorTable) -> str:
    return "\n".join(table.render_line(y).text for y in range(table.size.height))


async def open_roll_call(pilot: Pilot[Any]) -> RollCallScreen:
    await sign_in(pilot, "R1")
    await pilot.click("#reception")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ReceptionScreen)
    await pilot.click("#roll-call")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RollCallScreen)
    return screen


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_roll_call_online_then_from_the_local_copy(
    make_kiosk: KioskFactory, staff: Staff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await staff.visit("Léa", "Dupont", "ACME", approve=True, check_in=True)
    await staff.visit("Marc", "Durand", "Globex", approve=True)  # expected, not on site
    data_dir = tmp_path / "data"
    app = make_kiosk(data_dir=data_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_roll_call(pilot)
        table = screen.query_one(VisitorTable)
        text = drawn(table)
        assert "Léa Dupont" in text and "Hélène Girard" in text and "10:00" in text
        assert "Durand" not in text
        assert "1 sur site" in screen_text(app)

        copy = data_dir / "reception" / "roll-call-CANTINE.json"
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        assert stat.S_IMODE(copy.parent.stat().st_mode) == 0o700

        # The service goes away: the copy is shown, with its time and age.
        assert app.client is not None
        http = app.client._http
        http._transport = httpx.AsyncHTTPTransport()
        http.base_url = httpx.URL(f"http://127.0.0.1:{closed_port()}")
        generated = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
        monkeypatch.setattr(
            roll_call_screen, "terminal_now", lambda: generated + dt.timedelta(minutes=7)
        )
        await pilot.click("#refresh")
        await settle(pilot)
        status = screen_text(app)
        assert "Le service est injoignable" in status
        assert "Copie locale du 02/11 10:00 (il y a 7 min)" in status
        assert "Léa Dupont" in drawn(table)


async def test_csv_export_guards_formulas(
    make_kiosk: KioskFactory, staff: Staff, tmp_path: Path
) -> None:
    await staff.visit("[b]Léa[/b]", "Dupont", '=HYPERLINK("x")', approve=True, check_in=True)
    data_dir = tmp_path / "data"
    app = make_kiosk(data_dir=data_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_roll_call(pilot)
        assert "[b]Léa[/b] Dupont" in drawn(screen.query_one(VisitorTable))
        await pilot.click("#export")
        await settle(pilot)
        assert screen.exported is not None
        path = Path(screen.exported)
        assert path.parent == data_dir / "reception"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        content = path.read_text(encoding="utf-8")
        assert "'=HYPERLINK" in content
        assert "[b]Léa[/b]" in content
        assert "Exporté dans" in screen_text(app)


async def test_with_the_service_down_the_copy_is_exported_and_printed_with_its_age(
    make_kiosk: KioskFactory, staff: Staff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await staff.visit("Léa", "Dupont", "=ACME", approve=True, check_in=True)
    data_dir = tmp_path / "data"
    printer = tmp_path / "lp0"
    printer.touch()
    app = make_kiosk(data_dir=data_dir, printer=PrinterSettings(kind="file", path=printer))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_roll_call(pilot)
        assert app.client is not None
        http = app.client._http
        http._transport = httpx.AsyncHTTPTransport()
        http.base_url = httpx.URL(f"http://127.0.0.1:{closed_port()}")
        generated = screen.roll_call.generated_at if screen.roll_call else None
        assert generated is not None
        monkeypatch.setattr(
            roll_call_screen, "terminal_now", lambda: generated + dt.timedelta(minutes=12)
        )

        # Export at once, before any refresh noticed the service is gone.
        await pilot.click("#export")
        await settle(pilot)
        assert "Le service est injoignable" in screen_text(app)
        assert "Copie locale exportée dans" in screen_text(app)
        assert screen.exported is not None
        rows = list(csv.reader(Path(screen.exported).read_text(encoding="utf-8").splitlines()))
        assert rows[0][0].startswith("Roll call ")
        assert rows[0][2] == "local copy, 12 min old: the service could not be reached"
        assert rows[1] == ["last_name", "first_name", "company", "host", "checked_in_at", "overdue"]
        assert rows[2][:4] == ["Dupont", "Léa", "'=ACME", "Hélène Girard"]
        assert len(rows) == 3

        await pilot.click("#print")
        await settle(pilot)
        assert "La liste d'évacuation est imprimée" in screen_text(app)
        assert b"copie locale" in printer.read_bytes()
