"""What a signed-in person does to their own account's security: change their PIN (the
current one first, under the lockout rules), and block their badge when it is lost."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.models import Device, PersonSession, PinFailure, Site
from kiosk_server.pin_rules import is_trivial_pin
from kiosk_server.problems import ProblemError
from kiosk_server.security import Argon2, is_well_formed_pin
from kiosk_server.services import audit, badges, connect, notifications
from kiosk_server.services.auth import SignedInPerson, site_settings, verify_pin


def _french(site: Site) -> bool:
    return site.locale.lower().startswith("fr")


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
    await verify_pin(
        session,
        device=device,
        account=account,
        settings=site_settings(person.site),
        pin=current_pin,
        argon2=argon2,
        now=now,
    )
    if new_pin == current_pin:
        raise ProblemError("pin-unchanged", "The new PIN is the current one. Choose another.")
    account.pin_hash = await argon2.hash(new_pin)
    await session.execute(delete(PinFailure).where(PinFailure.account_id == account.id))
    await end_other_sessions(session, person=person, now=now)
    await audit.record(
        session,
        site_id=account.site_id,
        action="account.pin_changed",
        subject=f"account:{account.id}",
        now=now,
        actor_account_id=account.id,
        actor_device_id=device.id,
    )
    french = _french(person.site)
    await notifications.notify(
        session,
        account=account,
        kind="pin_changed",
        title="Votre code PIN a été changé" if french else "Your PIN was changed",
        body=(
            "Si ce n'est pas vous, adressez-vous à l'accueil."
            if french
            else "If it was not you, please contact the reception desk."
        ),
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
    await verify_pin(
        session,
        device=device,
        account=account,
        settings=site_settings(person.site),
        pin=pin,
        argon2=argon2,
        now=now,
    )
    await badges.rotate_badge_secret(session, account)
    await connect.revoke_connect(session, account)
    await end_other_sessions(session, person=person, now=now)
    await audit.record(
        session,
        site_id=account.site_id,
        action="badge.blocked",
        subject=f"account:{account.id}",
        now=now,
        actor_account_id=account.id,
        actor_device_id=device.id,
        detail={"connect_version": account.connect_version, "by": "owner"},
    )
    french = _french(person.site)
    await notifications.notify(
        session,
        account=account,
        kind="badge_blocked",
        title="Votre badge a été bloqué" if french else "Your badge was blocked",
        body=(
            "Les anciens QR codes de votre badge et de votre lettre de bienvenue ne sont plus "
            "acceptés. Si ce n'est pas vous, adressez-vous à l'accueil."
            if french
            else "The old QR codes of your badge and welcome letter are no longer accepted. "
            "If it was not you, please contact the reception desk."
        ),
        now=now,
        email=True,
    )
