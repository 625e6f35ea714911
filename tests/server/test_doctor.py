"""`kiosk-server doctor` on the demo and on what goes wrong: a schema behind the release, a mail
relay that cannot be reached, messages stuck in the outbox, a database that does not answer. It
says each in words and exits 1; on a healthy demo, 0."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import subprocess
import sys
from pathlib import Path

from kiosk_server.commands.doctor import examine
from kiosk_server.demo import ensure_demo
from kiosk_server.models import OutboxMessage, Site
from tests.factories import Factory


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_doctor_finds_nothing_wrong_with_the_demo(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    await asyncio.to_thread(ensure_demo, url, key_path=tmp_path / "key")
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "kiosk_server.cli", "doctor", "--database-url", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "KIOSK_DATA_DIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "its schema is this release's" in done.stdout
    assert "site DEMO: no mail relay" in done.stdout
    assert done.stdout.rstrip().endswith("Nothing wrong found.")


async def test_the_doctor_says_what_is_wrong(
    database_url: str, factory: Factory, site: Site
) -> None:
    async with factory.session_factory() as session:
        mine = await session.get(Site, site.id)
        assert mine is not None
        mine.settings = {"smtp": {"host": "127.0.0.1", "port": closed_port()}}
        session.add(
            OutboxMessage(
                site_id=site.id,
                channel="email",
                recipient="a@example.com",
                body="x",
                created_at=factory.clock.now() - dt.timedelta(hours=2),
                attempts=3,
                last_error="refused",
            )
        )
        await session.commit()
    findings = await examine(database_url, now=factory.clock.now())
    bad = [finding.text for finding in findings if not finding.ok]
    assert len(bad) == 2, bad
    assert "site CANTINE: the mail relay 127.0.0.1:" in bad[0] and "cannot be reached" in bad[0]
    assert bad[1].startswith("1 message(s) failed to send for over 30 min")


async def test_the_doctor_on_a_schema_behind_or_no_database(tmp_path: Path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    findings = await examine(empty, now=dt.datetime.now(dt.UTC))
    assert [f.ok for f in findings] == [True, False]
    assert "run 'kiosk-server migrate'" in findings[1].text
    nowhere = f"postgresql://nobody@127.0.0.1:{closed_port()}/x"
    findings = await examine(nowhere, now=dt.datetime.now(dt.UTC))
    assert not findings[0].ok and "cannot be reached" in findings[0].text
    assert findings[-1].ok  # the clock is still checked
