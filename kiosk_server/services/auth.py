"""Signing people in on a shared terminal: identify, PIN, sessions, and the counters that slow
down guessing (pause per terminal, lock across terminals, terminal throttle). Verification codes
(activation, a forgotten PIN) are in `services.verification`.

Failures are committed before the error is raised: the request's transaction is rolled back on
an error, and a wrong PIN must be counted all the same.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import and_, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from kiosk_server import schemas
from kiosk_server.db import as_utc
from kiosk_server.direct_reads import DirectRead, DirectReader
from kiosk_server.models import (
    Account,
    Device,
    DeviceFailure,
    PersonSession,
    PinFailure,
    Site,
    VerificationCode,
)
from kiosk_server.pin_rules import is_trivial_pin
from kiosk_server.problems import ProblemError
from kiosk_server.security import (
    Argon2,
    is_well_formed_pin,
    new_token,
    sha256_hex,
)
from kiosk_server.services import accounts
from kiosk_server.services.devices import site_by_id
from kiosk_server.site_settings import SiteSettings

Purpose = Literal["activate", "reset_pin"]

MAX_THROTTLE_SECONDS = 300
"""The longest a throttled terminal is asked to wait between two attempts."""


@dataclass(frozen=True)
class SignedInPerson:
    """The person behind a bearer token on this device."""

    session: PersonSession
    account: Account
    site: Site


def site_settings(site: Site) -> SiteSettings:
    return SiteSettings.model_validate(site.settings or {})


def seconds_until(when: dt.datetime, now: dt.datetime) -> int:
    return max(1, math.ceil((when - now).total_seconds()))


async def fail(session: AsyncSession, problem: ProblemError) -> ProblemError:
    """Commit what was recorded (failures, attempts), then hand back the error to raise."""
    await session.commit()
    return problem


async def check_throttle(
    session: AsyncSession, *, device: Device, settings: SiteSettings, now: dt.datetime
) -> None:
    """Past the threshold, each further failure on the terminal doubles the wait before the
    next attempt (up to `MAX_THROTTLE_SECONDS`): one PIN tried on many accounts gets slow."""
    since = now - dt.timedelta(minutes=settings.terminal_throttle_window_minutes)
    count, last = (
        await session.execute(
            select(func.count(), func.max(DeviceFailure.at)).where(
                DeviceFailure.device_id == device.id, DeviceFailure.at > since
            )
        )
    ).one()
    if last is None or count < settings.terminal_throttle_failures:
        return
    excess = min(count - settings.terminal_throttle_failures, 9)
    resumes_at = as_utc(last) + dt.timedelta(seconds=min(2**excess, MAX_THROTTLE_SECONDS))
    if resumes_at > now:
        raise ProblemError(
            "terminal-throttled",
            "This terminal is slowed down after many failed attempts. Try again shortly.",
            retry_after=seconds_until(resumes_at, now),
        )


async def find_account(
    session: AsyncSession, *, device: Device, site: Site, identifier: str, now: dt.datetime
) -> Account:
    account = await session.scalar(
        select(Account)
        .where(Account.site_id == site.id, Account.identifier == identifier.strip())
        .with_for_update()
    )
    if account is None:
        session.add(DeviceFailure(device_id=device.id, kind="identifier", at=now))
        raise await fail(
            session, ProblemError("account-unknown", "No account with this identifier here.")
        )
    return account


def check_not_blocked(account: Account) -> None:
    if account.status == "blocked":
        raise ProblemError("account-blocked", "This account is blocked. Ask the site's staff.")


async def identify(
    session: AsyncSession, *, device: Device, site: Site, identifier: str, now: dt.datetime
) -> schemas.Identified:
    await check_throttle(session, device=device, settings=site_settings(site), now=now)
    account = await find_account(session, device=device, site=site, identifier=identifier, now=now)
    check_not_blocked(account)
    state: Literal["active", "pending_activation", "locked"]
    if account.status != "active":
        state = "pending_activation"
    elif account.locked_at is not None:
        state = "locked"
    else:
        state = "active"
    return schemas.Identified(
        account_state=state, site=schemas.SiteRef(code=site.code, name=site.name)
    )


async def open_session(
    session: AsyncSession,
    *,
    device: Device,
    account: Account,
    site: Site,
    settings: SiteSettings,
    now: dt.datetime,
) -> schemas.Session:
    token = new_token()
    expires_at = now + dt.timedelta(minutes=settings.session_minutes)
    session.add(
        PersonSession(
            token_hash=sha256_hex(token),
            account_id=account.id,
            device_id=device.id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    me = await accounts.me(session, account=account, site=site)
    return schemas.Session(token=token, expires_at=expires_at, me=me)


async def set_pin(
    session: AsyncSession,
    *,
    device: Device,
    pin_setup_token: str,
    pin: str,
    argon2: Argon2,
    now: dt.datetime,
) -> schemas.Session:
    """Choose a PIN with a PIN setup token: activates (or unlocks) the account and signs in."""
    grant = await session.scalar(
        select(VerificationCode)
        .where(VerificationCode.pin_setup_hash == sha256_hex(pin_setup_token))
        .with_for_update()
    )
    account = await session.get(Account, grant.account_id) if grant is not None else None
    site = site_by_id(device, account.site_id) if account is not None else None
    if (
        grant is None
        or grant.pin_setup_expires_at is None
        or as_utc(grant.pin_setup_expires_at) <= now
        or account is None
        or site is None
    ):
        raise ProblemError("pin-setup-expired", "Start again with a new verification code.")
    if not is_well_formed_pin(pin):
        raise ProblemError("pin-malformed", "A PIN is exactly 6 digits.")
    if is_trivial_pin(pin):
        raise ProblemError("pin-too-simple", "This PIN is too easy to guess. Choose another.")
    check_not_blocked(account)

    account.pin_hash = await argon2.hash(pin)
    account.status = "active"
    account.locked_at = None
    grant.pin_setup_hash = None
    grant.pin_setup_expires_at = now
    await session.execute(delete(PinFailure).where(PinFailure.account_id == account.id))
    return await open_session(
        session, device=device, account=account, site=site, settings=site_settings(site), now=now
    )


async def _paused_until(
    session: AsyncSession,
    *,
    device: Device,
    account: Account,
    settings: SiteSettings,
    now: dt.datetime,
) -> dt.datetime | None:
    """When the pause of the account on this device ends, if it is paused now."""
    window = dt.timedelta(minutes=settings.pin_pause_minutes)
    recent = (
        await session.scalars(
            select(PinFailure.at)
            .where(
                PinFailure.account_id == account.id,
                PinFailure.device_id == device.id,
                PinFailure.at > now - window,
            )
            .order_by(PinFailure.at.desc())
            .limit(settings.pin_pause_failures)
        )
    ).all()
    if len(recent) < settings.pin_pause_failures:
        return None
    # The pause lasts until the oldest of those failures leaves the window.
    return as_utc(recent[-1]) + window


async def sign_in(
    session: AsyncSession,
    *,
    device: Device,
    site: Site,
    identifier: str,
    pin: str,
    argon2: Argon2,
    now: dt.datetime,
) -> schemas.Session:
    settings = site_settings(site)
    await check_throttle(session, device=device, settings=settings, now=now)
    account = await find_account(session, device=device, site=site, identifier=identifier, now=now)
    check_not_blocked(account)
    if account.status != "active" or account.pin_hash is None:
        raise ProblemError("account-not-active", "Activate this account first.")
    await verify_pin(
        session, device=device, account=account, settings=settings, pin=pin, argon2=argon2, now=now
    )
    return await open_session(
        session, device=device, account=account, site=site, settings=settings, now=now
    )


async def verify_pin(
    session: AsyncSession,
    *,
    device: Device,
    account: Account,
    settings: SiteSettings,
    pin: str,
    argon2: Argon2,
    now: dt.datetime,
) -> None:
    """Check the account's PIN under the lockout rules (signing in, or confirming an action
    while signed in): a locked or paused account is refused before the PIN is looked at; a
    wrong PIN counts (committed even though the request fails), pauses the account on this
    terminal or locks it, and says how many tries are left near the end. A right one clears
    the count."""
    if account.locked_at is not None:
        raise ProblemError(
            "account-locked", "This account is locked. A verification code unlocks it."
        )
    paused_until = await _paused_until(
        session, device=device, account=account, settings=settings, now=now
    )
    if paused_until is not None:
        raise ProblemError(
            "account-paused",
            "Too many wrong PINs on this terminal. Try again later.",
            retry_after=seconds_until(paused_until, now),
        )

    if account.pin_hash is None or not await argon2.verify(account.pin_hash, pin):
        session.add(PinFailure(account_id=account.id, device_id=device.id, at=now))
        session.add(DeviceFailure(device_id=device.id, kind="pin", at=now))
        await session.flush()
        since = now - dt.timedelta(minutes=settings.pin_failure_window_minutes)
        failures = await session.scalar(
            select(func.count()).where(PinFailure.account_id == account.id, PinFailure.at > since)
        )
        if (failures or 0) >= settings.pin_lock_failures:
            await lock_account(session, account, now=now)
        left = await _attempts_left(
            session, device=device, account=account, settings=settings, now=now, failures=failures
        )
        raise await fail(
            session,
            ProblemError(
                "pin-incorrect",
                "The PIN does not match.",
                attempts_left=left if left < ATTEMPTS_SHOWN_BELOW else None,
            ),
        )

    await session.execute(delete(PinFailure).where(PinFailure.account_id == account.id))


ATTEMPTS_SHOWN_BELOW = 3
"""`pin-incorrect` says how many tries are left once fewer than this remain (from the third
wrong PIN in a row, with the default pause after five)."""


async def _attempts_left(
    session: AsyncSession,
    *,
    device: Device,
    account: Account,
    settings: SiteSettings,
    now: dt.datetime,
    failures: int | None,
) -> int:
    """The wrong PINs the person may still type before the account is paused on this terminal
    or locked, whichever comes first."""
    on_device = await session.scalar(
        select(func.count()).where(
            PinFailure.account_id == account.id,
            PinFailure.device_id == device.id,
            PinFailure.at > now - dt.timedelta(minutes=settings.pin_pause_minutes),
        )
    )
    before_pause = settings.pin_pause_failures - (on_device or 0)
    before_lock = settings.pin_lock_failures - (failures or 0)
    return max(0, min(before_pause, before_lock))


async def lock_account(session: AsyncSession, account: Account, *, now: dt.datetime) -> None:
    """Lock the account (a verification code unlocks it) and end every session it has open:
    a session opened before the lock must not outlive it."""
    account.locked_at = now
    await session.execute(
        update(PersonSession)
        .where(PersonSession.account_id == account.id, PersonSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def device_and_person_session(
    session: AsyncSession, *, key: str, token: str
) -> tuple[Device | None, PersonSession | None, Account | None]:
    """The enrolled, unrevoked device with this key (its sites loaded) and, in the same round
    trip, the person session opened on it with this bearer token and that session's account.
    Runs on every request a signed-in person makes."""
    row = (
        (
            await session.execute(
                select(Device, PersonSession, Account)
                .outerjoin(
                    PersonSession,
                    and_(
                        PersonSession.token_hash == sha256_hex(token),
                        PersonSession.device_id == Device.id,
                    ),
                )
                .outerjoin(Account, Account.id == PersonSession.account_id)
                .where(Device.key_hash == sha256_hex(key))
                .options(joinedload(Device.sites))
            )
        )
        .unique()
        .one_or_none()
    )
    if row is None or row[0].revoked_at is not None:
        return None, None, None
    device, person_session, account = row
    return device, person_session, account


_PERSON_SESSION_ON = DirectRead(
    select(PersonSession, Account)
    .join(Account, Account.id == PersonSession.account_id)
    .where(
        PersonSession.token_hash == bindparam("token_hash"),
        PersonSession.device_id == bindparam("device_id"),
    )
)
"""Read on the driver (`direct_reads`): it runs on every request of a signed-in person."""


async def person_session_on(
    session: AsyncSession, reader: DirectReader, *, device: Device, token: str
) -> tuple[PersonSession | None, Account | None]:
    """The person session opened on this device with this bearer token, and its account (for a
    device already known, as `device_and_person_session` reads both)."""
    row = await reader.one(
        _PERSON_SESSION_ON, session, token_hash=sha256_hex(token), device_id=device.id
    )
    if row is None:
        return None, None
    person_session, account = row
    return person_session, account


def signed_in_person(
    *,
    device: Device,
    person_session: PersonSession | None,
    account: Account | None,
    now: dt.datetime,
) -> SignedInPerson:
    """The person behind a bearer token, as `device_and_person_session` found it. Valid only on
    the device it was opened on, until it expires or is revoked, while the account is active."""
    site = site_by_id(device, account.site_id) if account is not None else None
    if (
        person_session is None
        or person_session.revoked_at is not None
        or as_utc(person_session.expires_at) <= now
        or person_session.device_id != device.id
        or account is None
        or account.status != "active"
        or account.locked_at is not None
        or site is None
    ):
        raise ProblemError("session-invalid", "Sign in again.")
    return SignedInPerson(session=person_session, account=account, site=site)


async def sign_out(session: AsyncSession, *, person: SignedInPerson, now: dt.datetime) -> None:
    person.session.revoked_at = now
