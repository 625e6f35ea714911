"""What a signed-in person does to their own account: change their PIN (the current one first,
under the lockout rules), block their badge when it is lost, and change their email or phone
(a code sent to the new address confirms it)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server import schemas
from kiosk_server.admin.accounts import normalise_phone, site_country
from kiosk_server.fields import is_email
from kiosk_server.i18n import texts
from kiosk_server.models import Device, PersonSession, PinFailure, Site, VerificationCode
from kiosk_server.notify.outbox import enqueue_message
from kiosk_server.pin_rules import is_trivial_pin
from kiosk_server.problems import ProblemError
from kiosk_server.security import (
    Argon2,
    is_well_formed_pin,
    mask_email,
    mask_phone,
    new_verification_code,
)
from kiosk_server.services import audit, badges, connect, notifications
from kiosk_server.services.auth import SignedInPerson, site_settings, verify_pin
from kiosk_server.services.verification import (
    check_send_limit,
    code_message,
    expire_codes,
    spend_code,
)


async def _confirm_pin(
    session: AsyncSession,
    *,
    person: SignedInPerson,
    device: Device,
    pin: str,
    argon2: Argon2,
    now: dt.datetime,
) -> None:
    """The person's PIN, confirming an action on their account: checked as at sign-in."""
    await verify_pin(
        session,
        device=device,
        account=person.account,
        settings=site_settings(person.site),
        pin=pin,
        argon2=argon2,
        now=now,
    )


async def _record(
    session: AsyncSession,
    *,
    person: SignedInPerson,
    device: Device,
    action: str,
    now: dt.datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    """An audit entry for what the person did to their own account, at this terminal."""
    account = person.account
    await audit.record(
        session,
        site_id=account.site_id,
        action=action,
        subject=f"account:{account.id}",
        now=now,
        actor_account_id=account.id,
        actor_device_id=device.id,
        detail=detail,
    )


async def end_other_sessions(
    session: AsyncSession, *, person: SignedInPerson, now: dt.datetime
) -> None:
    """End every session of the person's account but the one making the request: whoever
    knew the old PIN (or held the badge) is signed out elsewhere."""
    await session.execute(
        update(PersonSession)
        .where(
            PersonSession.account_id == person.account.id,
            PersonSession.id != person.session.id,
            PersonSession.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


async def change_pin(
    session: AsyncSession,
    *,
    person: SignedInPerson,
    device: Device,
    current_pin: str,
    new_pin: str,
    argon2: Argon2,
    now: dt.datetime,
) -> None:
    """Replace the person's PIN. The new one follows the activation's rules (six digits, not
    trivial, and not the current one); the current one is checked as at sign-in, wrong tries
    counting toward the same pause and lock. Other sessions end; the person is told (by
    email too: a PIN changed by someone else must not go unnoticed)."""
    if not is_well_formed_pin(new_pin):
        raise ProblemError("pin-malformed", "A PIN is exactly 6 digits.")
    if is_trivial_pin(new_pin):
        raise ProblemError("pin-too-simple", "This PIN is too easy to guess. Choose another.")
    account = person.account
    await _confirm_pin(
        session, person=person, device=device, pin=current_pin, argon2=argon2, now=now
    )
    if new_pin == current_pin:
        raise ProblemError("pin-unchanged", "The new PIN is the current one. Choose another.")
    account.pin_hash = await argon2.hash(new_pin)
    await session.execute(delete(PinFailure).where(PinFailure.account_id == account.id))
    await end_other_sessions(session, person=person, now=now)
    await _record(session, person=person, device=device, action="account.pin_changed", now=now)
    tr = texts(person.site.locale)
    await notifications.notify(
        session,
        account=account,
        kind="pin_changed",
        title=tr.gettext("Your PIN was changed"),
        body=tr.gettext("If it was not you, please contact the reception desk."),
        now=now,
        email=True,
    )


async def block_badge(
    session: AsyncSession,
    *,
    person: SignedInPerson,
    device: Device,
    pin: str,
    argon2: Argon2,
    now: dt.datetime,
) -> None:
    """The person's badge is lost: once their PIN confirms it, the badge secret rotates (every
    QR made before is refused at once by tills and doors; the kiosk shows a new one), their
    welcome-letter QR is revoked (reception prints a new letter), their other sessions end,
    and an audit entry and a notification (email too) are written."""
    account = person.account
    await _confirm_pin(session, person=person, device=device, pin=pin, argon2=argon2, now=now)
    await badges.rotate_badge_secret(session, account)
    await connect.revoke_connect(session, account)
    await end_other_sessions(session, person=person, now=now)
    await _record(
        session,
        person=person,
        device=device,
        action="badge.blocked",
        now=now,
        detail={"connect_version": account.connect_version, "by": "owner"},
    )
    tr = texts(person.site.locale)
    await notifications.notify(
        session,
        account=account,
        kind="badge_blocked",
        title=tr.gettext("Your badge was blocked"),
        body=tr.gettext(
            "The old QR codes of your badge and welcome letter are no longer accepted. "
            "If it was not you, please contact the reception desk."
        ),
        now=now,
        email=True,
    )


ContactChannel = Literal["email", "phone"]


def _new_contact(channel: ContactChannel, value: str, site: Site) -> str:
    """The address as stored (a phone in international form), or `contact-invalid`."""
    cleaned = value.strip()
    if channel == "email":
        if not is_email(cleaned):
            raise ProblemError("contact-invalid", "This is not an email address.")
        return cleaned
    try:
        return normalise_phone(cleaned, country=site_country(site))
    except ValueError:
        raise ProblemError(
            "contact-invalid", "This is not a phone number (such as +33612345678)."
        ) from None


async def request_contact_change(
    session: AsyncSession,
    *,
    person: SignedInPerson,
    device: Device,
    channel: ContactChannel,
    value: str,
    argon2: Argon2,
    now: dt.datetime,
    language: str | None = None,
) -> schemas.VerificationCodeSent:
    """Send a code to the new address (never to the current one: it proves the new one is the
    person's). Codes count toward the same sending limit as activation's."""
    account, site = person.account, person.site
    contact = _new_contact(channel, value, site)
    current = account.email if channel == "email" else account.phone
    if current is not None and contact.casefold() == current.casefold():
        raise ProblemError("contact-unchanged", "This is already your address.")
    settings = site_settings(site)
    await check_send_limit(session, account=account, settings=settings, now=now)
    await expire_codes(session, account=account, now=now)
    code = new_verification_code()
    expires_at = now + dt.timedelta(minutes=settings.verification_code_minutes)
    session.add(
        VerificationCode(
            account_id=account.id,
            device_id=device.id,
            purpose=f"change_{channel}",
            code_hash=await argon2.hash(code),
            attempts=0,
            created_at=now,
            expires_at=expires_at,
            new_contact=contact,
        )
    )
    subject, body = code_message(site, code, settings.verification_code_minutes, language)
    await enqueue_message(
        session,
        site=site,
        account=account,
        channel="email" if channel == "email" else "sms",
        recipient=contact,
        subject=subject,
        body=body,
        now=now,
    )
    return schemas.VerificationCodeSent(
        channel="email" if channel == "email" else "sms",
        destination=mask_email(contact) if channel == "email" else mask_phone(contact),
        expires_at=expires_at,
    )


async def confirm_contact_change(
    session: AsyncSession,
    *,
    person: SignedInPerson,
    device: Device,
    code: str,
    argon2: Argon2,
    now: dt.datetime,
) -> None:
    """The code sent to the new address: the address becomes the account's. The old one is told
    (a change made by someone else must not go unnoticed), and an audit entry is written."""
    account, site = person.account, person.site
    pending = await spend_code(
        session,
        account=account,
        settings=site_settings(site),
        code=code,
        purposes=("change_email", "change_phone"),
        argon2=argon2,
        now=now,
    )
    email = pending.purpose == "change_email"
    old = account.email if email else account.phone
    if email:
        account.email = pending.new_contact
    else:
        account.phone = pending.new_contact
    await _record(
        session,
        person=person,
        device=device,
        action="account.contact_changed",
        now=now,
        detail={"channel": "email" if email else "phone"},
    )
    if old:
        tr = texts(site.locale)
        what = tr.gettext("email address") if email else tr.gettext("phone number")
        subject = tr.gettext("Your %(what)s was changed") % {"what": what}
        body = tr.gettext(
            "Your %(what)s for %(site)s was replaced. If it was not you, please contact the "
            "reception desk."
        ) % {"what": what, "site": site.name}
        await enqueue_message(
            session,
            site=site,
            account=account,
            channel="email" if email else "sms",
            recipient=old,
            subject=subject if email else "",
            body=body,
            now=now,
        )
