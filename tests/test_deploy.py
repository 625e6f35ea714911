"""The deployment kit (`deploy/`, docs/deploy.md): the systemd units pass `systemd-analyze verify`
(where the machine has it), the roll-call SSH command refuses anything but text or csv, and the
upgrade step (`kiosk-server migrate`) brings a database made by the previous release, data in it,
to this one losing nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ("kiosk-server.service", "kiosk-tty1.service", "kiosk-touch.service")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
@pytest.mark.parametrize("unit", UNITS)
def test_the_units_verify(unit: str, tmp_path: Path) -> None:
    """Verified as installed here: the install directory is this checkout, and the compositor of
    the touch unit (not installed on a test machine) a command that exists."""
    text = (DEPLOY / unit).read_text(encoding="utf-8")
    text = text.replace("/opt/badge-kiosk", str(ROOT)).replace("/usr/bin/cage", "/bin/true")
    assert f"{ROOT}/.venv/bin/" in text
    path = tmp_path / unit
    path.write_text(text, encoding="utf-8")
    analyze = shutil.which("systemd-analyze") or "systemd-analyze"
    checked = subprocess.run(  # noqa: S603 - the system's systemd-analyze on our own unit file
        [analyze, "verify", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # A misspelt key is only a warning for systemd: any output counts as a failure here.
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


def test_the_units_harden_the_service() -> None:
    service = (DEPLOY / "kiosk-server.service").read_text(encoding="utf-8")
    for line in (
        "User=kiosk",
        "EnvironmentFile=/etc/badge-kiosk/server.env",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
    ):
        assert line in service.splitlines()


def test_the_roll_call_ssh_command_takes_only_text_or_csv(tmp_path: Path) -> None:
    fake = tmp_path / "kiosk"
    fake.write_text('#!/bin/sh\necho "kiosk $*"\n', encoding="utf-8")
    fake.chmod(0o755)
    script = tmp_path / "deploy" / "roll-call-ssh"
    script.parent.mkdir()
    shutil.copy(DEPLOY / "roll-call-ssh", script)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}

    def run(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - the shell on our own script
            ["/bin/sh", str(script)],
            env={**env, "SSH_ORIGINAL_COMMAND": command},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    assert run("").stdout == "kiosk roll-call\n"
    assert run("csv").stdout == "kiosk roll-call --csv\n"
    refused = run("csv; sh")
    assert refused.returncode == 2 and refused.stdout == ""


PREVIOUS = "0014_evacuations"
"""The previous release's migration head."""


async def _counts(url: str) -> dict[str, int]:
    from sqlalchemy import text

    from kiosk_server.db import make_engine

    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            counts = {
                table: int(
                    (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()  # noqa: S608 - fixed names
                )
                for table in ("sites", "accounts", "ledger_entries", "tickets", "devices")
            }
            total = await connection.execute(text("SELECT sum(balance_cents) FROM accounts"))
            counts["balance"] = int(total.scalar_one())
    finally:
        await engine.dispose()
    return counts


async def test_the_upgrade_step_keeps_the_data(database_url: str, tmp_path: Path) -> None:
    """The demo seeded at this release, brought back to the previous one's schema, then
    upgraded with `kiosk-server migrate`: every row and every balance is still there."""
    import asyncio

    from alembic import command
    from alembic.config import Config

    from kiosk_server.db import MIGRATIONS_DIR
    from kiosk_server.demo import ensure_demo
    from kiosk_server.migrations import HEAD

    await asyncio.to_thread(ensure_demo, database_url, key_path=tmp_path / "key")
    before = await _counts(database_url)
    assert before["accounts"] > 0 and before["balance"] > 0
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    await asyncio.to_thread(command.downgrade, config, PREVIOUS)

    upgraded = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "kiosk_server.cli", "--database-url", database_url, "migrate"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "KIOSK_DATA_DIR": str(tmp_path)},
    )
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"at migration {HEAD}" in upgraded.stdout
    assert await _counts(database_url) == before
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            version = db.execute("SELECT version_num FROM alembic_version").fetchall()
        assert version == [(HEAD,)]
