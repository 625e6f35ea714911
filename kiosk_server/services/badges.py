"""The dematerialised badge: issuing a person's rotating token, and checking the tokens that
doors and tills read.

A token names its account, its site and its time step, signed with the account's badge secret
(`kiosk_server.tokens.badge`). The service accepts the current step and one either side; a door
may verify the same token again and again within that window, a till consumes it (one token
pays once).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.models import Account, BadgeTokenUse, Device, Site
from kiosk_server.preferences import preferences_of
from kiosk_server.problems import ProblemError
from kiosk_server.schemas_badges import register_problems
from kiosk_server.services.auth import site_settings
from kiosk_server.services.devices import site_by_id
from kiosk_server.site_settings import SiteSettings
from kiosk_server.tokens import (
    BadgeTokenClaims,
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
    return site_settings(site).badge_step_seconds


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


def _read_token(device: Device, token: str) -> tuple[BadgeTokenClaims, Site]:
    """The token's claims and the site it names, which `device` must serve; not yet checked
    against the account's secret."""
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
    return claims, site


def _tampered() -> ProblemError:
    # An unknown account is answered as a forgery: the tag cannot be checked without a secret.
    return ProblemError("badge-tampered", "This badge is not genuine.")


def _check_token(
    claims: BadgeTokenClaims,
    *,
    secret: bytes,
    status: str,
    step_seconds: int,
    now: dt.datetime,
) -> None:
    """The token's tag against the account's secret, its step against now, then the account's
    status: `badge-tampered`, `badge-expired` or `account-blocked`."""
    try:
        verify_badge_token(
            claims,
            secret=secret,
            now_step=current_step(now, step_seconds),
            skew=SKEW_STEPS,
        )
    except TokenError as error:
        if error.code == "token-expired":
            raise ProblemError(
                "badge-expired", "This badge code has expired. Show the badge on screen again."
            ) from None
        raise _tampered() from None
    if status == "blocked":
        raise ProblemError("account-blocked", "This account is blocked. Ask the site's staff.")


def _already_used() -> ProblemError:
    return ProblemError(
        "badge-already-used", "This badge code was already used to pay. Show the next one."
    )


async def verify_badge(
    session: AsyncSession, *, device: Device, token: str, now: dt.datetime
) -> tuple[Account, Site]:
    """The account and site of a valid badge token read by `device` (a door or a till), or a
    `ProblemError`: `badge-malformed`, `badge-other-site`, `badge-tampered`, `badge-expired`,
    `account-blocked`. Repeatable: verifying uses nothing up (a till's purchase spends the
    token: `spend_badge`)."""
    claims, site = _read_token(device, token)
    account = await session.get(Account, claims.account_id)
    if account is None or account.site_id != site.id:
        raise _tampered()
    _check_token(
        claims,
        secret=account.badge_secret,
        status=account.status,
        step_seconds=badge_step_seconds(site),
        now=now,
    )
    return account, site


@dataclass(frozen=True)
class SpentBadge:
    """What a till's purchase needs of the account whose token it spent."""

    account_id: int
    name: str
    site: Site
    settings: SiteSettings
    """The site's, read once for the check and kept for the purchase (its overdraft limit)."""
    low_balance_cents: int | None = None
    """The person's low-balance alert (`kiosk_server.preferences`), read with the account."""


async def spend_badge(
    session: AsyncSession, *, device: Device, token: str, now: dt.datetime
) -> SpentBadge:
    """Verify the token (as `verify_badge`) and spend it, within the caller's transaction: a
    second spending of the same token (or of another token of the same account and step) is
    `badge-already-used`, even from a concurrent transaction. Not committed: the use is undone
    if the caller rolls back (a payment that fails does not spend the token). Only the
    account's few needed columns are read, by Core (a till's purchase: the hot path).

    On PostgreSQL the account is read and the use inserted by one statement
    (`_account_and_use`): the use is written before the token is checked, and any refusal that
    follows rolls it back with the caller's transaction (`idempotency.once` rolls back on
    every refusal), so a refused token is never spent. A token already used is only reported
    once it is otherwise valid.

    `ON CONFLICT DO NOTHING` on the (account, step) key rather than an insert in a savepoint:
    the caller's transaction stays usable after a refusal. A concurrent transaction that
    inserted the same use first makes this one wait for its outcome, as a unique violation
    would: committed, nothing is inserted here; rolled back, this one is."""
    claims, site = _read_token(device, token)
    settings = site_settings(site)
    parameters = {
        "account_id": claims.account_id,
        "site_id": site.id,
        "step": claims.step,
        "used_at": now,
        "device_id": device.id,
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        row = (await session.execute(_account_and_use(), parameters)).first()
    else:
        row = (
            await session.execute(_account_statement(), {"account_id": claims.account_id})
        ).first()
    if row is None or row.site_id != site.id:
        raise _tampered()
    _check_token(
        claims,
        secret=bytes(row.badge_secret),
        status=row.status,
        step_seconds=settings.badge_step_seconds,
        now=now,
    )
    if dialect == "postgresql":
        fresh = bool(row.fresh)
    else:
        fresh = await session.scalar(_use_statement(dialect), parameters) is not None
    if not fresh:
        raise _already_used()
    return SpentBadge(
        account_id=int(row.id),
        name=row.name,
        site=site,
        settings=settings,
        low_balance_cents=preferences_of(row.preferences).low_balance_cents,
    )


_ACCOUNTS = cast(Table, Account.__table__)
_USES = cast(Table, BadgeTokenUse.__table__)
_USE_COLUMNS = ("account_id", "step", "used_at", "device_id")


def _insert(dialect: str) -> Any:
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


@functools.cache
def _use_statement(dialect: str) -> Any:
    """`INSERT INTO badge_token_uses ... ON CONFLICT (account_id, step) DO NOTHING RETURNING
    account_id` with bound parameters `account_id`, `step`, `used_at`, `device_id`: no row
    returned means the token was already spent.

    Built once per dialect: building the insert cost more CPU than running it."""
    return (
        _insert(dialect)(_USES)
        .values({name: bindparam(name, type_=_USES.c[name].type) for name in _USE_COLUMNS})
        .on_conflict_do_nothing(index_elements=["account_id", "step"])
        .returning(_USES.c.account_id)
    )


def _account_columns() -> tuple[Any, ...]:
    return (
        _ACCOUNTS.c.id,
        _ACCOUNTS.c.site_id,
        _ACCOUNTS.c.name,
        _ACCOUNTS.c.status,
        _ACCOUNTS.c.badge_secret,
        _ACCOUNTS.c.preferences,
    )


@functools.cache
def _account_statement() -> Any:
    """The account columns a badge check needs, by `account_id`."""
    return select(*_account_columns()).where(
        _ACCOUNTS.c.id == bindparam("account_id", type_=_ACCOUNTS.c.id.type)
    )


@functools.cache
def _account_and_use() -> Any:
    """PostgreSQL, one round trip: `WITH used AS (INSERT INTO badge_token_uses SELECT id, :step,
    :used_at, :device_id FROM accounts WHERE id = :account_id AND site_id = :site_id ON CONFLICT
    (account_id, step) DO NOTHING RETURNING account_id) SELECT <account columns>, EXISTS (SELECT
    FROM used) AS fresh FROM accounts WHERE id = :account_id`.

    The use is only inserted for an account of the badge's site (an unknown account or another
    site's inserts nothing, and is refused as a forgery). `fresh` is false when the token was
    already spent; a concurrent transaction that inserted the same use first makes this one
    wait for its outcome, as in `spend_badge`."""
    account_id = bindparam("account_id", type_=_ACCOUNTS.c.id.type)
    source = select(
        _ACCOUNTS.c.id,
        *(bindparam(name, type_=_USES.c[name].type) for name in _USE_COLUMNS[1:]),
    ).where(
        _ACCOUNTS.c.id == account_id,
        _ACCOUNTS.c.site_id == bindparam("site_id", type_=_ACCOUNTS.c.site_id.type),
    )
    used = (
        postgresql_insert(_USES)
        .from_select(list(_USE_COLUMNS), source)
        .on_conflict_do_nothing(index_elements=["account_id", "step"])
        .returning(_USES.c.account_id)
        .cte("used")
    )
    return select(*_account_columns(), select(used.c.account_id).exists().label("fresh")).where(
        _ACCOUNTS.c.id == account_id
    )


async def rotate_badge_secret(session: AsyncSession, account: Account) -> None:
    """Give the account a new badge secret: every token made before stops working at once (a
    lost or copied badge). Flushed, not committed."""
    account.badge_secret = new_badge_secret()
    await session.flush()
