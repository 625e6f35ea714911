"""`kiosk-server doctor`: what is wrong with this installation, in words. It changes nothing
(unlike the other commands, it does not migrate): the database answers, its schema is this
release's, each site's mail relay accepts connections, no message is stuck in the outbox, and the
machine's clock is sane (badge codes change every 30 s: a till and the service must agree)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import socket
from dataclasses import dataclass
from typing import Any

from kiosk_server.commands.common import add_database_option, database_url, shown_url

STUCK_AFTER = dt.timedelta(minutes=30)
"""An undelivered message older than this is reported."""


@dataclass(frozen=True, slots=True)
class Finding:
    ok: bool
    text: str


def _doctor(args: argparse.Namespace) -> int:
    url, _is_demo = database_url(args)
    findings = asyncio.run(examine(url, now=dt.datetime.now(dt.UTC)))
    for finding in findings:
        print(f"{'ok ' if finding.ok else 'BAD'} {finding.text}")
    bad = sum(1 for finding in findings if not finding.ok)
    print("Nothing wrong found." if not bad else f"{bad} problem(s) found.")
    return 0 if not bad else 1


async def examine(url: str, *, now: dt.datetime) -> list[Finding]:
    """Each check's finding, in order; stops after the database when it does not answer."""
    from sqlalchemy import func, select, text

    from kiosk_server.db import make_engine
    from kiosk_server.migrations import HEAD
    from kiosk_server.models import OutboxMessage, Site
    from kiosk_server.site_settings import SiteSettings

    shown = shown_url(url)
    findings: list[Finding] = []
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            findings.append(Finding(True, f"the database answers: {shown}"))
            try:
                version = (
                    await connection.execute(text("SELECT version_num FROM alembic_version"))
                ).scalar_one_or_none()
            except Exception:  # noqa: BLE001 - no table: never migrated
                version = None
            if version == HEAD:
                findings.append(Finding(True, f"its schema is this release's ({HEAD})"))
            else:
                findings.append(
                    Finding(
                        False,
                        f"its schema is at {version or 'nothing'}, this release needs {HEAD}: "
                        "run 'kiosk-server migrate'",
                    )
                )
                return findings
            sites = (await connection.execute(select(Site.code, Site.settings))).all()
            for code, settings in sites:
                relay = SiteSettings.model_validate(settings or {}).smtp
                if relay is None:
                    findings.append(
                        Finding(True, f"site {code}: no mail relay, emails stay in the outbox")
                    )
                    continue
                reached = await asyncio.to_thread(_reaches, relay.host, relay.port)
                where = f"{relay.host}:{relay.port}"
                findings.append(
                    Finding(True, f"site {code}: the mail relay {where} accepts connections")
                    if reached is None
                    else Finding(
                        False, f"site {code}: the mail relay {where} cannot be reached ({reached})"
                    )
                )
            stuck, oldest = (
                await connection.execute(
                    select(func.count(), func.min(OutboxMessage.created_at)).where(
                        OutboxMessage.attempts > 0,
                        OutboxMessage.created_at < now - STUCK_AFTER,
                    )
                )
            ).one()
            if stuck:
                findings.append(
                    Finding(
                        False,
                        f"{stuck} message(s) failed to send for over "
                        f"{int(STUCK_AFTER.total_seconds() // 60)} min (the oldest from "
                        f"{oldest:%Y-%m-%d %H:%M} UTC): 'kiosk-server outbox' shows why",
                    )
                )
            else:
                findings.append(Finding(True, "no message stuck in the outbox"))
    except OSError as error:
        findings.append(
            Finding(False, f"the database cannot be reached: {error.strerror or error}")
        )
    except Exception as error:
        if not findings:
            findings.append(Finding(False, f"the database does not answer: {type(error).__name__}"))
        else:
            raise
    finally:
        await engine.dispose()
    findings.append(_clock(now))
    return findings


def _reaches(host: str, port: int) -> str | None:
    """None when a TCP connection opens within 3 s, else why not."""
    try:
        with socket.create_connection((host, port), timeout=3):
            return None
    except OSError as error:
        return error.strerror or type(error).__name__


def _clock(now: dt.datetime) -> Finding:
    """The clock is plausible (a machine whose clock was never set is often in 1970 or 2000);
    each terminal compares its own with the service's (`kiosk doctor`)."""
    if now.year < 2025:
        return Finding(False, f"this machine's clock says {now:%Y-%m-%d}: set it (NTP)")
    return Finding(True, f"this machine's clock: {now:%Y-%m-%d %H:%M:%S} UTC")


def register(commands: Any) -> None:
    """Add `doctor` to `kiosk-server`'s commands."""
    doctor = commands.add_parser(
        "doctor", help="check the database, its schema, mail relays and the outbox; change nothing"
    )
    doctor.set_defaults(handler=_doctor)
    add_database_option(doctor, default=argparse.SUPPRESS)
