"""The demo seed: what the README lists, seeded once, and the demo terminal's key kept safe."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from kiosk_server.cli import main
from kiosk_server.demo import ensure_demo
from kiosk_server.models import Account, Device, LedgerEntry, Site
from kiosk_server.security import Argon2
from tests.processes import COMMAND_SECONDS
from tests.server.cli_support import isolate_environment, read_database

CHEAP = Argon2(time_cost=1, memory_cost_kib=64, parallelism=1)


DeviceRow = tuple[str, str, list[str], bool, str]


@dataclass
class Seeded:
    sites: dict[str, tuple[str, str, str, str]]
    accounts: dict[tuple[str, str], dict[str, Any]]
    devices: list[DeviceRow]
    reasons: set[str]


def snapshot(url: str) -> Seeded:
    """Everything the README promises, read back from the database."""

    async def work(session: AsyncSession) -> Seeded:
        sites = {
            s.code: (s.name, s.currency, s.locale, s.time_zone)
            for s in await session.scalars(select(Site))
        }
        accounts: dict[tuple[str, str], dict[str, Any]] = {}
        rows = await session.execute(select(Account, Site.code).join(Site))
        for account, code in rows:
            balance = await session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
                    LedgerEntry.account_id == account.id
                )
            )
            accounts[(code, account.identifier)] = {
                "name": account.name,
                "status": account.status,
                "email": account.email,
                "phone": account.phone,
                "roles": account.roles,
                "balance": int(balance or 0),
                "pin_hash": account.pin_hash,
            }
        devices = [
            (d.name, d.role, sorted(s.code for s in d.sites), d.revoked_at is None, d.key_hash)
            for d in await session.scalars(
                select(Device).options(selectinload(Device.sites)).order_by(Device.id)
            )
        ]
        reasons = set(await session.scalars(select(LedgerEntry.reason)))
        return Seeded(sites, accounts, devices, reasons)

    return read_database(url, work)


def test_demo_is_seeded_once_with_what_the_readme_lists(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_environment(monkeypatch, tmp_path)
    key_path = tmp_path / "keys" / "demo.key"
    url = database_url
    key = ensure_demo(url, key_path=key_path, argon2=CHEAP)
    seeded = snapshot(url)

    assert seeded.sites == {
        "DEMO": ("Campus Démo", "EUR", "fr_FR", "Europe/Paris"),
        "NORD": ("Site Nord", "EUR", "fr_FR", "Europe/Paris"),
    }
    accounts = seeded.accounts
    expected = {
        ("DEMO", "1001"): ("Alice Martin", "active", "alice.martin@example.com", None, [], 1250),
        ("DEMO", "1002"): ("Bruno Lefèvre", "pending", "bruno.lefevre@example.com", None, [], 0),
        ("DEMO", "1003"): ("Chloé Dubois", "pending", None, "+33612345642", [], 0),
        ("DEMO", "2001"): (
            "Denise Moreau", "active", "denise.moreau@example.com", None, ["reception"], 4000
        ),
        ("NORD", "1001"): ("Noé Petit", "active", None, None, [], 500),
    }  # fmt: skip
    assert {
        k: (a["name"], a["status"], a["email"], a["phone"], a["roles"], a["balance"])
        for k, a in accounts.items()
    } == expected
    assert seeded.reasons == {"Solde d'ouverture"}
    for where, pin in [(("DEMO", "1001"), "246810"), (("DEMO", "2001"), "135790"),
                       (("NORD", "1001"), "975310")]:  # fmt: skip
        pin_hash = accounts[where]["pin_hash"]
        assert isinstance(pin_hash, str)
        assert asyncio.run(CHEAP.verify(pin_hash, pin))
    assert accounts[("DEMO", "1002")]["pin_hash"] is None

    [(name, role, codes, live, key_hash)] = seeded.devices
    assert (name, role, codes, live) == ("Borne démo", "terminal", ["DEMO", "NORD"], True)
    assert key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key_path.read_text().strip() == key
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600

    # A second start seeds nothing and gives the same key.
    assert ensure_demo(url, key_path=key_path, argon2=CHEAP) == key
    assert snapshot(url) == seeded


def test_a_lost_key_file_enrols_a_new_demo_terminal_and_revokes_the_old(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_environment(monkeypatch, tmp_path)
    key_path = tmp_path / "demo.key"
    url = database_url
    old_key = ensure_demo(url, key_path=key_path, argon2=CHEAP)
    key_path.unlink()

    new_key = ensure_demo(url, key_path=key_path, argon2=CHEAP)

    assert new_key != old_key
    assert key_path.read_text().strip() == new_key
    devices = snapshot(url).devices
    live = {key_hash: is_live for _, _, _, is_live, key_hash in devices}
    assert live == {
        hashlib.sha256(old_key.encode()).hexdigest(): False,
        hashlib.sha256(new_key.encode()).hexdigest(): True,
    }
    assert [codes for _, _, codes, _, _ in devices] == [["DEMO", "NORD"]] * 2


def test_demo_command_seeds_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = isolate_environment(monkeypatch, tmp_path)

    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    database = data_dir / "demo.sqlite3"
    key_file = data_dir / "demo-device.key"
    assert f"Demo database: {database}" in out
    assert str(key_file) in out
    assert stat.S_IMODE(os.stat(data_dir).st_mode) == 0o700
    key = key_file.read_text().strip()
    assert key not in out  # the key stays in its file

    # The admin commands use the same demo database when given no URL.
    assert main(["outbox", "--site", "DEMO"]) == 0
    assert "The outbox is empty." in capsys.readouterr().out
    assert main(["terminals", "list"]) == 0
    assert "Borne démo" in capsys.readouterr().out
    assert main(["demo"]) == 0
    assert key_file.read_text().strip() == key
    assert len(snapshot(f"sqlite:///{database}").devices) == 1


def test_output_read_only_in_part_is_no_error(tmp_path: Path) -> None:
    """`kiosk-server outbox | head`: the reader leaves early; the command ends quietly."""
    env = {**os.environ, "KIOSK_DATA_DIR": str(tmp_path / "data")}
    env.pop("KIOSK_SERVER_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk_server.cli", "outbox"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before a line is written
    try:
        status = process.wait(timeout=COMMAND_SECONDS)
        errors = process.stderr.read().decode()
    finally:
        process.kill()
        process.stderr.close()
    assert "Broken pipe" not in errors and "error" not in errors
    assert status == 0
