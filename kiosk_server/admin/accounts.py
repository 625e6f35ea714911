"""Importing accounts from a CSV file, and setting a person's roles."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.admin import AdminError
from kiosk_server.admin.sites import get_site
from kiosk_server.fields import forbidden_character
from kiosk_server.i18n import texts
from kiosk_server.models import Account, Site
from kiosk_server.services import badges, connect
from kiosk_server.services.money import adjustments

REQUIRED_COLUMNS = ("identifier", "name", "email", "phone")
OPTIONAL_COLUMNS = ("roles", "balance")
MAX_OPENING_CENTS = 100_000_00
"""The largest opening balance an import takes (a typo of a few zeros is refused)."""
ASSIGNABLE_ROLES = ("reception", "security", "admin")
"""Roles an import or an admin can give; `member` is everyone's and needs no mention."""

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
E164 = re.compile(r"\+[1-9][0-9]{7,14}")
# Country calling code and national number length (with its leading 0) for sites whose
# people write phone numbers in the national form ("06 12 34 56 42").
NATIONAL_NUMBERING = {
    "FR": ("33", 10),
    "BE": ("32", None),
    "CH": ("41", 10),
    "LU": ("352", None),
    "DE": ("49", None),
    "GB": ("44", 11),
    "IT": ("39", None),
    "ES": ("34", None),
    "NL": ("31", 10),
}


class AccountImportRejected(AdminError):
    """An import with bad rows; nothing of it was written."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} bad row(s); nothing was imported")


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    opened: int = 0
    """New accounts given an opening balance."""
    opening_cents: int = 0
    """Their opening balances, in all."""


def opening_reason(site: Site) -> str:
    """The line of an opening balance's ticket, in the site's language."""
    return texts(site.locale).gettext("Opening balance")


def parse_opening(raw: str) -> int:
    """`12.50`, `12,50`, `0`, `` → cents; ValueError for anything else, a negative amount, more
    than 2 decimals or more than `MAX_OPENING_CENTS`."""
    cleaned = raw.strip().replace(",", ".")
    if not cleaned:
        return 0
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"balance {raw!r} is not an amount (write it like 12.50)") from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"balance {raw!r} is not an amount in cents")
    cents = int(value * 100)
    if cents < 0:
        raise ValueError(f"balance {raw!r} is negative: an opening balance is not a debt")
    if cents > MAX_OPENING_CENTS:
        raise ValueError(f"balance {raw!r} is over {MAX_OPENING_CENTS // 100}")
    return cents


def site_country(site: Site) -> str | None:
    """The territory of the site's locale (`fr_FR` → `FR`)."""
    _, _, territory = site.locale.replace("-", "_").partition("_")
    return territory.upper() or None


def normalise_phone(raw: str, *, country: str | None) -> str:
    """A phone number in E.164 (`+33612345642`), from an international form or, for sites in a
    known country, the national one (`06 12 34 56 42`). ValueError when it is neither."""
    # "+33 (0)6 ..." is a common way of writing it; the trunk 0 in brackets is not dialled.
    compact = re.sub(r"[\s.\-()/]", "", raw.replace("(0)", ""))
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("+"):
        if E164.fullmatch(compact):
            return compact
        raise ValueError("phone must be + and 8 to 15 digits")
    numbering = NATIONAL_NUMBERING.get(country or "")
    if numbering is not None and compact.isdigit() and compact.startswith("0"):
        calling_code, length = numbering
        if length is None or len(compact) == length:
            candidate = f"+{calling_code}{compact[1:]}"
            if E164.fullmatch(candidate):
                return candidate
    raise ValueError("phone must be in international form, such as +33612345642")


def _clean_text(value: str | None) -> str:
    return (value or "").strip()


def _has_control(value: str) -> bool:
    return forbidden_character(value) is not None


def parse_roles(raw: str) -> list[str]:
    """`reception;admin` → `["reception", "admin"]`; ValueError on an unknown role."""
    roles: list[str] = []
    for part in raw.split(";"):
        role = part.strip().lower()
        if not role or role == "member":
            continue
        if role not in ASSIGNABLE_ROLES:
            raise ValueError(f"unknown role {role!r} (roles: {', '.join(ASSIGNABLE_ROLES)})")
        if role not in roles:
            roles.append(role)
    return roles


@dataclass
class _Row:
    line: int
    identifier: str
    name: str
    email: str | None
    phone: str | None
    roles: list[str] | None
    balance_cents: int = 0


def _parse_rows(text: str, *, country: str | None) -> tuple[list[_Row], list[tuple[int, str]]]:
    errors: list[tuple[int, str]] = []
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = next(reader, None)
    if header is None:
        raise AccountImportRejected([(1, "the file is empty")])
    columns = [column.strip().lower() for column in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown or len(set(columns)) != len(columns):
        expected = ",".join(REQUIRED_COLUMNS) + "[,roles][,balance]"
        raise AccountImportRejected([(1, f"the header must be {expected} (comma-separated)")])
    has_roles = "roles" in columns
    has_balance = "balance" in columns

    rows: list[_Row] = []
    seen: dict[str, int] = {}
    next_line = 2
    for record in reader:
        line, next_line = next_line, reader.line_num + 1
        if not any(value.strip() for value in record):
            continue
        if len(record) != len(columns):
            errors.append((line, f"expected {len(columns)} fields, found {len(record)}"))
            continue
        values = dict(zip(columns, record, strict=True))
        problems: list[str] = []
        identifier = _clean_text(values["identifier"])
        if not identifier:
            problems.append("identifier is missing")
        elif len(identifier) > 64 or _has_control(identifier):
            problems.append("identifier must be at most 64 printable characters")
        elif identifier in seen:
            problems.append(f"identifier {identifier!r} already appears on line {seen[identifier]}")
        else:
            seen[identifier] = line
        name = _clean_text(values["name"])
        if not name:
            problems.append("name is missing")
        elif len(name) > 200 or _has_control(name):
            problems.append("name must be at most 200 printable characters")
        email = _clean_text(values["email"]) or None
        phone_raw = _clean_text(values["phone"]) or None
        if email is None and phone_raw is None:
            problems.append("an email or a phone is needed (to send the activation code)")
        if email is not None and (len(email) > 254 or not EMAIL.fullmatch(email)):
            problems.append(f"email {email!r} is not an email address")
        phone = None
        if phone_raw is not None:
            try:
                phone = normalise_phone(phone_raw, country=country)
            except ValueError as exc:
                problems.append(f"{exc} (got {phone_raw!r})")
        roles = None
        if has_roles:
            try:
                roles = parse_roles(values["roles"])
            except ValueError as exc:
                problems.append(str(exc))
        balance = 0
        if has_balance:
            try:
                balance = parse_opening(values["balance"])
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            errors.append((line, "; ".join(problems)))
        else:
            rows.append(_Row(line, identifier, name, email, phone, roles, balance))
    if not rows and not errors:
        errors.append((1, "the file holds no accounts"))
    return rows, errors


async def import_accounts(
    session: AsyncSession, *, site_code: str, text: str, update: bool, now: dt.datetime
) -> ImportResult:
    """Add (or, with `update`, also update) the accounts of a CSV file
    (`identifier,name,email,phone[,roles]`, roles `;`-separated).

    Every row is checked first; when any is bad, AccountImportRejected lists them all with
    their line numbers and nothing is added. New accounts are pending until their owner
    activates them at a terminal. Flushed, not committed."""
    site = await get_site(session, site_code)
    rows, errors = _parse_rows(text, country=site_country(site))
    existing = {
        account.identifier: account
        for account in await session.scalars(
            select(Account).where(
                Account.site_id == site.id, Account.identifier.in_([r.identifier for r in rows])
            )
        )
    }
    if not update:
        errors.extend(
            (
                row.line,
                (
                    f"identifier {row.identifier!r} already exists on {site.code}"
                    " (use --update to update existing accounts)"
                ),
            )
            for row in rows
            if row.identifier in existing
        )
    errors.extend(
        (
            row.line,
            (
                f"identifier {row.identifier!r} already exists: an opening balance is for a "
                "new account (use 'accounts adjust' for an existing one)"
            ),
        )
        for row in rows
        if row.balance_cents and row.identifier in existing
    )
    if errors:
        raise AccountImportRejected(sorted(errors))

    result = ImportResult()
    opening: list[tuple[Account, int]] = []
    for row in rows:
        account = existing.get(row.identifier)
        if account is None:
            account = Account(
                site_id=site.id,
                identifier=row.identifier,
                name=row.name,
                email=row.email,
                phone=row.phone,
                roles=row.roles or [],
                status="pending",
                created_at=now,
            )
            session.add(account)
            result.created.append(row.identifier)
            if row.balance_cents:
                opening.append((account, row.balance_cents))
        else:
            account.name = row.name
            account.email = row.email
            account.phone = row.phone
            if row.roles is not None:
                account.roles = row.roles
            result.updated.append(row.identifier)
    await session.flush()
    # Through the ledger like any other movement: an entry and a ticket the person sees, in the
    # import's own transaction (all or nothing).
    reason = opening_reason(site)
    for account, cents in opening:
        await adjustments.adjust(
            session, site=site, account=account, amount_cents=cents, reason=reason, now=now
        )
        result.opened += 1
        result.opening_cents += cents
    return result


async def set_roles(
    session: AsyncSession, *, site_code: str, identifier: str, roles: list[str]
) -> Account:
    """Replace the roles of one account (flushed, not committed)."""
    site = await get_site(session, site_code)
    account = await session.scalar(
        select(Account).where(Account.site_id == site.id, Account.identifier == identifier.strip())
    )
    if account is None:
        raise AdminError(f"no account {identifier.strip()!r} on {site.code}")
    checked: list[str] = []
    for role in roles:
        try:
            checked.extend(r for r in parse_roles(role) if r not in checked)
        except ValueError as exc:
            raise AdminError(str(exc)) from None
    account.roles = checked
    await session.flush()
    return account


async def get_account(session: AsyncSession, *, site_code: str, identifier: str) -> Account:
    """The account with this identifier on the site, or AdminError."""
    site = await get_site(session, site_code)
    account = await session.scalar(
        select(Account).where(Account.site_id == site.id, Account.identifier == identifier.strip())
    )
    if account is None:
        raise AdminError(f"no account {identifier.strip()!r} on {site.code}")
    return account


async def revoke_connect(session: AsyncSession, *, site_code: str, identifier: str) -> Account:
    """Void the account's welcome-letter QR; print a new one with `connect-qr` (flushed, not
    committed)."""
    account = await get_account(session, site_code=site_code, identifier=identifier)
    await connect.revoke_connect(session, account)
    return account


async def rotate_badge(session: AsyncSession, *, site_code: str, identifier: str) -> Account:
    """Give the account a new badge secret, voiding every badge token made before (flushed,
    not committed)."""
    account = await get_account(session, site_code=site_code, identifier=identifier)
    await badges.rotate_badge_secret(session, account)
    return account


@dataclass(frozen=True)
class ConnectLetter:
    """What a welcome letter's QR carries for one account."""

    identifier: str
    name: str
    token: str


async def connect_letters(
    session: AsyncSession, *, site_code: str, identifiers: Sequence[str] = ()
) -> list[ConnectLetter]:
    """The current connect token of every account of the site (or of the listed ones; an
    unknown identifier is an AdminError), ordered by identifier. Blocked accounts get none."""
    site = await get_site(session, site_code)
    query = select(Account).where(Account.site_id == site.id, Account.status != "blocked")
    wanted = [identifier.strip() for identifier in identifiers]
    if wanted:
        query = query.where(Account.identifier.in_(wanted))
    accounts = {account.identifier: account for account in await session.scalars(query)}
    missing = [identifier for identifier in wanted if identifier not in accounts]
    if missing:
        listed = ", ".join(repr(identifier) for identifier in missing)
        raise AdminError(f"no account {listed} on {site.code} (blocked accounts get no QR)")
    return [
        ConnectLetter(account.identifier, account.name, connect.connect_token_for(site, account))
        for account in sorted(accounts.values(), key=lambda account: account.identifier)
    ]
