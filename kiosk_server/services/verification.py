"""Verification codes: sent to a person's email or phone to activate their account or reset a
forgotten PIN, limited in number, spent once, and answered with a short-lived grant to choose
a PIN (`auth.set_pin`). Wrong codes count like wrong PINs (`auth`'s counters).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server import schemas
from kiosk_server.db import as_utc
from kiosk_server.i18n import texts
from kiosk_server.models import Account, Device, Site, VerificationCode
from kiosk_server.notify.outbox import enqueue_message
from kiosk_server.problems import ProblemError
from kiosk_server.security import (
    Argon2,
    mask_email,
    mask_phone,
    new_token,
    new_verification_code,
    sha256_hex,
)
from kiosk_server.services.auth import (
    Purpose,
    check_not_blocked,
    fail,
    find_account,
    seconds_until,
    site_settings,
)
from kiosk_server.site_settings import SiteSettings


def code_message(
    site: Site, code: str, minutes: int, language: str | None = None
) -> tuple[str, str]:
    """Subject and body of a verification code message, in `language` (the one the person
    uses at the terminal), else the site's."""
    tr = texts(language or site.locale)
    return (
        tr.gettext("Your verification code"),
        tr.gettext("Your verification code: %(code)s. It is valid for %(minutes)d minutes.")
        % {"code": code, "minutes": minutes},
    )


async def send_verification_code(
    session: AsyncSession,
    *,
    device: Device,
    site: Site,
    identifier: str,
    purpose: Purpose,
    argon2: Argon2,
    now: dt.datetime,
    language: str | None = None,
) -> schemas.VerificationCodeSent:
    """Send a new code to the account's contact (email, else phone); it replaces earlier ones."""
    settings = site_settings(site)
    account = await find_account(session, device=device, site=site, identifier=identifier, now=now)
    check_not_blocked(account)
    if purpose == "activate" and account.status == "active":
        raise ProblemError("account-already-active", "This account is already active.")

    channel: Literal["email", "sms"]
    if account.email:
        channel, recipient, destination = "email", account.email, mask_email(account.email)
    elif account.phone:
        channel, recipient, destination = "sms", account.phone, mask_phone(account.phone)
    else:
        raise ProblemError("no-contact", "No email or phone is registered for this account.")

    await check_send_limit(session, account=account, settings=settings, now=now)
    await expire_codes(session, account=account, now=now)
    code = new_verification_code()
    expires_at = now + dt.timedelta(minutes=settings.verification_code_minutes)
    session.add(
        VerificationCode(
            account_id=account.id,
            device_id=device.id,
            purpose=purpose,
            code_hash=await argon2.hash(code),
            attempts=0,
            created_at=now,
            expires_at=expires_at,
        )
    )
    subject, body = code_message(site, code, settings.verification_code_minutes, language)
    await enqueue_message(
        session,
        site=site,
        account=account,
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        now=now,
    )
    return schemas.VerificationCodeSent(
        channel=channel, destination=destination, expires_at=expires_at
    )


async def check_send_limit(
    session: AsyncSession, *, account: Account, settings: SiteSettings, now: dt.datetime
) -> None:
    """`verification-send-limit` once the account was sent its share of codes lately (for
    whatever purpose: activation, a new PIN, a new address)."""
    window = dt.timedelta(minutes=settings.verification_send_window_minutes)
    recent = (
        await session.scalars(
            select(VerificationCode.created_at)
            .where(
                VerificationCode.account_id == account.id,
                VerificationCode.created_at > now - window,
            )
            .order_by(VerificationCode.created_at.desc())
            .limit(settings.verification_max_sends)
        )
    ).all()
    if len(recent) >= settings.verification_max_sends:
        raise ProblemError(
            "verification-send-limit",
            "Several codes were sent lately. Use the last one, or ask again later.",
            retry_after=seconds_until(as_utc(recent[-1]) + window, now),
        )


async def expire_codes(session: AsyncSession, *, account: Account, now: dt.datetime) -> None:
    """The newest code replaces the earlier ones, and any PIN setup they opened."""
    await session.execute(
        update(VerificationCode)
        .where(VerificationCode.account_id == account.id, VerificationCode.expires_at > now)
        .values(expires_at=now)
    )
    await session.execute(
        update(VerificationCode)
        .where(
            VerificationCode.account_id == account.id,
            VerificationCode.pin_setup_expires_at > now,
        )
        .values(pin_setup_expires_at=now)
    )


async def spend_code(
    session: AsyncSession,
    *,
    account: Account,
    settings: SiteSettings,
    code: str,
    purposes: tuple[str, ...],
    argon2: Argon2,
    now: dt.datetime,
) -> VerificationCode:
    """The account's latest code, when it is `code` and for one of `purposes`: marked used and
    handed back (locked). Else `verification-code-expired` (none pending, used, expired, out of
    tries, or for another purpose) or `verification-code-invalid` (the try counts, committed
    though the request fails)."""
    pending = await session.scalar(
        select(VerificationCode)
        .where(VerificationCode.account_id == account.id)
        .order_by(VerificationCode.created_at.desc(), VerificationCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    if (
        pending is None
        or pending.purpose not in purposes
        or pending.used_at is not None
        or as_utc(pending.expires_at) <= now
        or pending.attempts >= settings.verification_max_attempts
    ):
        raise ProblemError(
            "verification-code-expired", "This code is no longer valid. Ask for a new one."
        )
    if not await argon2.verify(pending.code_hash, code.strip()):
        pending.attempts += 1
        raise await fail(
            session,
            ProblemError("verification-code-invalid", "This code does not match. Check it."),
        )
    pending.used_at = now
    return pending


async def check_verification_code(
    session: AsyncSession,
    *,
    device: Device,
    site: Site,
    identifier: str,
    code: str,
    argon2: Argon2,
    now: dt.datetime,
) -> schemas.PinSetupGrant:
    """Check the account's latest code; a match opens a one-time PIN setup."""
    settings = site_settings(site)
    account = await find_account(session, device=device, site=site, identifier=identifier, now=now)
    check_not_blocked(account)
    pending = await spend_code(
        session,
        account=account,
        settings=settings,
        code=code,
        purposes=("activate", "reset_pin"),
        argon2=argon2,
        now=now,
    )
    token = new_token()
    pending.pin_setup_hash = sha256_hex(token)
    pending.pin_setup_expires_at = now + dt.timedelta(minutes=settings.pin_setup_minutes)
    return schemas.PinSetupGrant(pin_setup_token=token, expires_at=pending.pin_setup_expires_at)
