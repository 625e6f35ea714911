"""The demo: two sites with a few accounts in every state, and a terminal enrolled for both.

`ensure_demo` is what the embedded terminal (and `kiosk-server` without a database URL) runs at
start: migrate, seed once, and hand back the demo terminal's device key. The README lists the
accounts below; keep them in step.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kiosk_server.admin.catalogue import demo_catalogue_text, load_catalogue
from kiosk_server.admin.devices import enrol_device
from kiosk_server.admin.help import demo_help_text, load_help
from kiosk_server.admin.sites import create_site
from kiosk_server.clock import Clock, SystemClock
from kiosk_server.models import Account, Device, Site
from kiosk_server.security import Argon2, sha256_hex
from kiosk_server.services.money.adjustments import adjust

DEMO_TERMINAL_NAME = "Borne démo"


@dataclass(frozen=True)
class DemoAccount:
    identifier: str
    name: str
    status: str
    pin: str | None = None
    email: str | None = None
    phone: str | None = None
    roles: tuple[str, ...] = ()
    balance_cents: int = 0


@dataclass(frozen=True)
class DemoSite:
    code: str
    name: str
    currency: str
    locale: str
    time_zone: str
    accounts: tuple[DemoAccount, ...] = field(default_factory=tuple)


DEMO_SITES = (
    DemoSite(
        code="DEMO",
        name="Campus Démo",
        currency="EUR",
        locale="fr_FR",
        time_zone="Europe/Paris",
        accounts=(
            DemoAccount(
                "1001",
                "Alice Martin",
                "active",
                pin="246810",
                email="alice.martin@example.com",
                balance_cents=1250,
            ),
            DemoAccount("1002", "Bruno Lefèvre", "pending", email="bruno.lefevre@example.com"),
            DemoAccount("1003", "Chloé Dubois", "pending", phone="+33612345642"),
            DemoAccount(
                "2001",
                "Denise Moreau",
                "active",
                pin="135790",
                email="denise.moreau@example.com",
                roles=("reception",),
                balance_cents=4000,
            ),
        ),
    ),
    # Same identifier 1001 as on DEMO on purpose: sites are tenants, and the terminal serves
    # both, so the solution code step shows.
    DemoSite(
        code="NORD",
        name="Site Nord",
        currency="EUR",
        locale="fr_FR",
        time_zone="Europe/Paris",
        accounts=(DemoAccount("1001", "Noé Petit", "active", pin="975310", balance_cents=500),),
    ),
)
OPENING_BALANCE_REASON = "Solde d'ouverture"
DEMO_SITE_SETTINGS = {
    "sandbox_payments": True,
    "top_up_min_cents": 500,
    "top_up_max_cents": 20000,
    "top_up_presets_cents": [1000, 2000, 5000],
    "visitor_photo": "optional",
}
"""Policies of every demo site: sandbox payments on, the top-up limits the README gives, and a
visitor photo the visitor may decline (a machine without a camera goes on without)."""

# DEMO ONLY. Fixed connect secrets, so that the connect QRs committed in examples/connect-qr/
# work on every freshly seeded demo database (they also rely on the demo's sites and accounts
# getting the same ids, which a fresh database gives). A real site gets a random secret when it
# is created; never copy these anywhere else: being public, they protect nothing.
DEMO_CONNECT_SECRETS = {
    "DEMO": bytes.fromhex("9183baf4cbc1944d55044244e1b9a235e8ff572506700d4b8f2705e181120bcc"),
    "NORD": bytes.fromhex("b101fd119519a5ebd4c27ff09fb5e2d73e3a031dabaceb66f0c6002008ab99cd"),
}


async def seed_demo(
    session_factory: async_sessionmaker[AsyncSession], *, clock: Clock, argon2: Argon2
) -> str | None:
    """Seed the demo into an empty database and return the demo terminal's device key; None
    (and nothing written) when the database already holds a site."""
    # Every start but the first finds the demo there: said before any PIN is hashed (argon2,
    # a tenth of a second or more per PIN, at every embedded start).
    async with session_factory() as session:
        if await session.scalar(select(Site.id).limit(1)) is not None:
            return None
    # PINs are hashed before the transaction, so that the write lock is held briefly.
    pin_hashes = {
        (site.code, account.identifier): await argon2.hash(account.pin)
        for site in DEMO_SITES
        for account in site.accounts
        if account.pin is not None
    }
    now = clock.now()
    async with session_factory() as session, session.begin():
        if await session.scalar(select(Site.id).limit(1)) is not None:
            return None
        for demo_site in DEMO_SITES:
            site = await create_site(
                session,
                code=demo_site.code,
                name=demo_site.name,
                currency=demo_site.currency,
                locale=demo_site.locale,
                time_zone=demo_site.time_zone,
                now=now,
            )
            site.connect_secret = DEMO_CONNECT_SECRETS[demo_site.code]
            # The demo takes online top-ups through the sandbox (a test checkout page).
            site.settings = {**(site.settings or {}), **DEMO_SITE_SETTINGS}
            if demo_site.code == "DEMO":
                await load_catalogue(session, site_code=site.code, text=demo_catalogue_text())
            await load_help(session, site_code=site.code, text=demo_help_text())
            for demo in demo_site.accounts:
                account = Account(
                    site_id=site.id,
                    identifier=demo.identifier,
                    name=demo.name,
                    email=demo.email,
                    phone=demo.phone,
                    roles=list(demo.roles),
                    status=demo.status,
                    pin_hash=pin_hashes.get((demo_site.code, demo.identifier)),
                    created_at=now,
                )
                session.add(account)
                await session.flush()
                if demo.balance_cents:
                    # Through the admin adjustment, so that the opening balance is a ticket in
                    # the person's history like any other movement.
                    await adjust(
                        session,
                        site=site,
                        account=account,
                        amount_cents=demo.balance_cents,
                        reason=OPENING_BALANCE_REASON,
                        now=now,
                    )
        terminal = await enrol_device(
            session,
            name=DEMO_TERMINAL_NAME,
            role="terminal",
            site_codes=[s.code for s in DEMO_SITES],
            now=now,
            roll_call=True,
        )
    return terminal.key


async def _key_is_live(session: AsyncSession, key: str) -> bool:
    device_id = await session.scalar(
        select(Device.id).where(Device.key_hash == sha256_hex(key), Device.revoked_at.is_(None))
    )
    return device_id is not None


async def _reenrol_demo_terminal(session: AsyncSession, *, now: dt.datetime) -> str:
    """A new demo terminal key, for when the key file was lost: the old terminal is revoked
    (nobody holds its key any more) and a new one serves the demo sites that still exist."""
    old = await session.scalars(
        select(Device).where(Device.name == DEMO_TERMINAL_NAME, Device.revoked_at.is_(None))
    )
    for device in old:
        device.revoked_at = now
    codes = list(
        await session.scalars(select(Site.code).where(Site.code.in_([s.code for s in DEMO_SITES])))
    )
    if not codes:
        codes = list(await session.scalars(select(Site.code).order_by(Site.id)))
    terminal = await enrol_device(
        session, name=DEMO_TERMINAL_NAME, role="terminal", site_codes=codes, now=now, roll_call=True
    )
    return terminal.key


def write_key_file(path: Path, key: str) -> None:
    """Write the key readable by its owner only; replaced atomically, so a crash mid-write
    never leaves half a key."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def read_key_file(path: Path) -> str | None:
    try:
        key = path.read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    return key or None


async def _ensure_seeded(url: str, key_path: Path, clock: Clock, argon2: Argon2) -> str:
    from kiosk_server.db import make_engine, make_session_factory

    engine = make_engine(url)
    try:
        session_factory = make_session_factory(engine)
        key = await seed_demo(session_factory, clock=clock, argon2=argon2)
        if key is not None:
            write_key_file(key_path, key)
            return key
        stored = read_key_file(key_path)
        async with session_factory() as session, session.begin():
            if stored is not None and await _key_is_live(session, stored):
                # A demo made before terminals kept the roll call: this one does.
                await session.execute(
                    update(Device)
                    .where(Device.key_hash == sha256_hex(stored), Device.roll_call.is_(False))
                    .values(roll_call=True)
                )
                return stored
            key = await _reenrol_demo_terminal(session, now=clock.now())
        write_key_file(key_path, key)
        return key
    finally:
        await engine.dispose()


def ensure_demo(
    url: str,
    *,
    key_path: Path | None = None,
    clock: Clock | None = None,
    argon2: Argon2 | None = None,
) -> str:
    """Migrate the database, seed the demo if it holds no site yet, and return the demo
    terminal's device key (kept in `key_path`, the data directory's key file by default).

    Synchronous, for the embedded terminal's start-up thread; it must not be called on a
    thread that runs an event loop."""
    from kiosk_server.db import upgrade
    from kiosk_server.paths import demo_device_key_path
    from kiosk_server.settings import ServerSettings

    upgrade(url)
    if argon2 is None:
        argon2 = Argon2.from_settings(ServerSettings(database_url=url))
    return asyncio.run(
        _ensure_seeded(url, key_path or demo_device_key_path(), clock or SystemClock(), argon2)
    )
