from __future__ import annotations

from fastapi import APIRouter, status

from kiosk_server.deps import Argon2Dep, ClockDep, CurrentPerson, DbSession, Terminal
from kiosk_server.problems import problem_responses
from kiosk_server.routes import API
from kiosk_server.schemas import (
    BadgeBlocked,
    ContactChangeConfirm,
    ContactChangeRequest,
    Me,
    PinChanged,
    PinChangeRequest,
    PinConfirmation,
    Profile,
    SettingsOut,
    SettingsPatch,
    VerificationCodeSent,
)
from kiosk_server.services import accounts, self_service

_PERSON = (
    "device-key-missing",
    "device-key-invalid",
    "device-role-forbidden",
    "session-missing",
    "session-invalid",
)

router = APIRouter(prefix=API, tags=["me"])


@router.get(
    "/me",
    responses=problem_responses(*_PERSON),
)
async def get_me(session: DbSession, person: CurrentPerson) -> Me:
    """The signed-in person, their site and their balance."""
    return await accounts.me(session, account=person.account, site=person.site)


@router.post(
    "/me/pin",
    responses=problem_responses(
        *_PERSON,
        "validation-failed",
        "pin-malformed",
        "pin-too-simple",
        "pin-unchanged",
        "pin-incorrect",
        "account-paused",
        "account-locked",
    ),
)
async def change_pin(
    body: PinChangeRequest,
    session: DbSession,
    device: Terminal,
    person: CurrentPerson,
    argon2: Argon2Dep,
    clock: ClockDep,
) -> PinChanged:
    """Change the PIN: `current_pin` is checked as at sign-in (a wrong one counts toward the
    pause and the lock, and says `attempts_left` near the end); `new_pin` follows the
    activation's rules and differs from it. The person's sessions on other terminals end, and
    they are told (notification and email)."""
    now = clock.now()
    await self_service.change_pin(
        session,
        person=person,
        device=device,
        current_pin=body.current_pin,
        new_pin=body.new_pin,
        argon2=argon2,
        now=now,
    )
    return PinChanged(changed_at=now)


@router.post(
    "/me/badge/block",
    responses=problem_responses(
        *_PERSON, "validation-failed", "pin-incorrect", "account-paused", "account-locked"
    ),
)
async def block_badge(
    body: PinConfirmation,
    session: DbSession,
    device: Terminal,
    person: CurrentPerson,
    argon2: Argon2Dep,
    clock: ClockDep,
) -> BadgeBlocked:
    """A lost badge, blocked by its owner with their PIN (checked as at sign-in): the badge
    secret rotates, so every badge QR made before is refused at once (`GET /v1/me/badge` gives
    the new one); the welcome-letter QR is revoked (`connect-revoked`); the person's other
    sessions end; an audit entry and a `badge_blocked` notification and email are written."""
    now = clock.now()
    await self_service.block_badge(
        session, person=person, device=device, pin=body.pin, argon2=argon2, now=now
    )
    return BadgeBlocked(blocked_at=now)


@router.get("/me/settings", responses=problem_responses(*_PERSON))
async def get_settings(person: CurrentPerson) -> SettingsOut:
    """The person's settings: language, low-balance alert, and which events reach them by
    email or SMS (with the defaults for what they did not choose)."""
    return accounts.settings_of(person.account, person.site)


@router.patch("/me/settings", responses=problem_responses(*_PERSON, "validation-failed"))
async def change_settings(
    body: SettingsPatch, session: DbSession, person: CurrentPerson
) -> SettingsOut:
    """Change some settings; what is not given stays. `low_balance_cents` between 0 and
    `low_balance_max` (null: no alert); `notify` sets the channels of the events it names."""
    return await accounts.change_settings(
        session, account=person.account, site=person.site, patch=body
    )


@router.get("/me/profile", responses=problem_responses(*_PERSON))
async def get_profile(person: CurrentPerson) -> Profile:
    """Name, identifier, and the email and phone masked (a shared screen never shows them)."""
    return accounts.profile_of(person.account)


@router.post(
    "/me/contact",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(
        *_PERSON,
        "validation-failed",
        "contact-invalid",
        "contact-unchanged",
        "verification-send-limit",
    ),
)
async def change_contact(
    body: ContactChangeRequest,
    session: DbSession,
    device: Terminal,
    person: CurrentPerson,
    argon2: Argon2Dep,
    clock: ClockDep,
) -> VerificationCodeSent:
    """Start changing the email (`channel: email`) or phone (`phone`, international or the
    site's national form): a 6-digit code goes to the new address, never the current one, and
    counts toward the same sending limit as activation's. `/me/contact/confirm` finishes."""
    return await self_service.request_contact_change(
        session,
        person=person,
        device=device,
        channel=body.channel,
        value=body.value,
        argon2=argon2,
        now=clock.now(),
        language=body.language,
    )


@router.post(
    "/me/contact/confirm",
    responses=problem_responses(
        *_PERSON, "validation-failed", "verification-code-invalid", "verification-code-expired"
    ),
)
async def confirm_contact(
    body: ContactChangeConfirm,
    session: DbSession,
    device: Terminal,
    person: CurrentPerson,
    argon2: Argon2Dep,
    clock: ClockDep,
) -> Profile:
    """The code sent to the new address: it becomes the account's (the old one is told, an
    audit entry is written). A wrong code counts; after the site's tries, ask for a new one."""
    await self_service.confirm_contact_change(
        session, person=person, device=device, code=body.code, argon2=argon2, now=clock.now()
    )
    return accounts.profile_of(person.account)
