"""The dematerialised badge: issuing a person's rotating token, and checking the tokens that
doors and tills read.

A token names its account, its site and its time step, signed with the account's badge secret
(`kiosk_server.tokens.badge`). The service accepts the current step and one either side; a door
may verify the same token again and again within that window, a till consumes it (one token
pays once).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.models import Account, BadgeTokenUse, Device, Site
from kiosk_server.problems import ProblemError
from kiosk_server.schemas_badges import register_problems
from kiosk_server.services.devices import site_by_id
from kiosk_server.site_settings import SiteSettings
from kiosk_server.tokens import (
    TokenError,
    current_step,
    make_badge_token,
    new_badge_secret,
    parse_badge_token,
    step_start,
    verify_badge_token,
)

register_problems()

SKEW_STEPS = 1
"""Steps either side of now that are still accepted (clock skew, the time to scan)."""


@dataclass(frozen=True)
class BadgeIssued:
    """The current token of an account, and the times a terminal plans its refresh on."""

    token: str
    step: int
    step_seconds: int
    refresh_at: dt.datetime
    """Start of the next step: the terminal fetches the next token then."""
    valid_until: dt.datetime
    """End of the next step: the last moment the service accepts this token."""


def badge_step_seconds(site: Site) -> int:
    return SiteSettings.model_validate(site.settings or {}).badge_step_seconds


async def issue_badge(
    session: AsyncSession, account: Account, now: dt.datetime, *, site: Site | None = None
) -> BadgeIssued:
    """The account's badge token for the step `now` falls in (`site` is loaded when not
    given)."""
    if site is None:
        site = await session.get(Site, account.site_id)
        if site is None:  # pragma: no cover - a foreign key guarantees it
            raise LookupError("account without a site")
    step_seconds = badge_step_seconds(site)
    step = current_step(now, step_seconds)
    token = make_badge_token(
        site_id=site.id, account_id=account.id, secret=account.badge_secret, step=step
    )
    return BadgeIssued(
        token=token,
        step=step,
        step_seconds=step_seconds,
        refresh_at=step_start(step + 1, step_seconds),
        valid_until=step_start(step + 1 + SKEW_STEPS, step_seconds),
    )


@dataclass(frozen=True)
class _Verified:
    account: Account
    site: Site
    step: int


async def _verify(
    session: AsyncSession, *, device: Device, token: str, now: dt.datetime
) -> _Verified:
    try:
        claims = parse_badge_token(token.strip())
    except TokenError as error:
        if error.code == "token-kind":
            raise ProblemError(
                "badge-malformed", "This is a connect QR from a welcome letter, not a badge."
            ) from None
        raise ProblemError("badge-malformed", "This is not a badge.") from None
    site = site_by_id(device, claims.site_id)
    if site is None:
        raise ProblemError(
            "badge-other-site", "This badge belongs to a site this device does not serve."
        )
    account = await session.get(Account, claims.account_id)
    # An unknown account is answered as a forgery: the tag cannot be checked without a secret.
    if account is None or account.site_id != site.id:
        raise ProblemError("badge-tampered", "This badge is not genuine.")
    step_seconds = badge_step_seconds(site)
    try:
        verify_badge_token(
            claims,
            secret=account.badge_secret,
            now_step=current_step(now, step_seconds),
            skew=SKEW_STEPS,
        )
    except TokenError as error:
        if error.code == "token-expired":
            raise ProblemError(
                "badge-expired", "This badge code has expired. Show the badge on screen again."
            ) from None
        raise ProblemError("badge-tampered", "This badge is not genuine.") from None
    if account.status == "blocked":
        raise ProblemError("account-blocked", "This account is blocked. Ask the site's staff.")
    return _Verified(account=account, site=site, step=claims.step)


async def verify_badge(
    session: AsyncSession, *, device: Device, token: str, now: dt.datetime
) -> tuple[Account, Site]:
    """The account and site of a valid badge token read by `device` (a door or a till), or a
    `ProblemError`: `badge-malformed`, `badge-other-site`, `badge-tampered`, `badge-expired`,
    `account-blocked`. Repeatable: verifying uses nothing up."""
    verified = await _verify(session, device=device, token=token, now=now)
    return verified.account, verified.site


async def consume_badge(
    session: AsyncSession, *, device: Device, token: str, now: dt.datetime
) -> tuple[Account, Site]:
    """Verify the token and spend it, within the caller's transaction: a second consumption of
    the same token (or of another token of the same account and step) is `badge-already-used`,
    even from a concurrent transaction. Flushed, not committed; the use is undone if the caller
    rolls back (a payment that fails does not spend the token)."""
    verified = await _verify(session, device=device, token=token, now=now)
    # `ON CONFLICT DO NOTHING` on the (account, step) key rather than an insert in a savepoint:
    # one round trip instead of three, and the caller's transaction stays usable. A concurrent
    # transaction that inserted the same use first makes this one wait for its outcome, as a
    # unique violation would: committed, nothing is inserted here; rolled back, this one is.
    insert = _insert(session.get_bind().dialect.name)
    used = await session.scalar(
        insert(BadgeTokenUse)
        .values(
            account_id=verified.account.id, step=verified.step, used_at=now, device_id=device.id
        )
        .on_conflict_do_nothing(index_elements=["account_id", "step"])
        .returning(BadgeTokenUse.account_id)
    )
    if used is None:
        raise ProblemError(
            "badge-already-used", "This badge code was already used to pay. Show the next one."
        )
    return verified.account, verified.site


def _insert(dialect: str) -> Any:
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


async def rotate_badge_secret(session: AsyncSession, account: Account) -> None:
    """Give the account a new badge secret: every token made before stops working at once (a
    lost or copied badge). Flushed, not committed."""
    account.badge_secret = new_badge_secret()
    await session.flush()
