"""Creating sites and setting their policies from a TOML file."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import zoneinfo
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.admin import AdminError
from kiosk_server.fields import forbidden_character
from kiosk_server.models import LedgerEntry, Site
from kiosk_server.site_settings import SiteSettings

SITE_CODE = re.compile(r"[A-Z0-9-]{2,32}")
CURRENCY = re.compile(r"[A-Z]{3}")
TOP_LEVEL_KEYS = ("name", "currency", "locale", "time_zone", "settings")


def normalise_site_code(code: str) -> str:
    """The stored form of a solution code (upper case), or AdminError when it is not one."""
    normalised = code.strip().upper()
    if not SITE_CODE.fullmatch(normalised):
        raise AdminError(
            f"invalid site code {code!r}: use 2 to 32 letters, digits or dashes (e.g. CAMPUS-1)"
        )
    return normalised


def check_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 200 or forbidden_character(cleaned) is not None:
        raise AdminError("the site name must be 1 to 200 characters, without control characters")
    return cleaned


def check_currency(currency: str) -> str:
    cleaned = currency.strip().upper()
    if not CURRENCY.fullmatch(cleaned):
        raise AdminError(f"invalid currency {currency!r}: use an ISO 4217 code such as EUR")
    return cleaned


def check_locale(locale: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(locale)
    except (ValueError, UnknownLocaleError):
        raise AdminError(f"unknown locale {locale!r}: use a form such as fr_FR") from None
    return locale


def check_time_zone(time_zone: str) -> str:
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise AdminError(
            f"unknown time zone {time_zone!r}: use a form such as Europe/Paris"
        ) from None
    return time_zone


async def find_site(session: AsyncSession, code: str) -> Site | None:
    return await session.scalar(select(Site).where(Site.code == code.strip().upper()))


async def get_site(session: AsyncSession, code: str) -> Site:
    """The site with this solution code, or AdminError."""
    site = await find_site(session, code)
    if site is None:
        raise AdminError(f"no site with code {code.strip().upper()!r}")
    return site


async def create_site(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    now: dt.datetime,
    currency: str = "EUR",
    locale: str = "fr_FR",
    time_zone: str = "Europe/Paris",
    settings: SiteSettings | None = None,
) -> Site:
    """Add a site (flushed, not committed)."""
    normalised = normalise_site_code(code)
    if await find_site(session, normalised) is not None:
        raise AdminError(f"a site with code {normalised!r} already exists")
    site = Site(
        code=normalised,
        name=check_name(name),
        currency=check_currency(currency),
        locale=check_locale(locale),
        time_zone=check_time_zone(time_zone),
        settings=_stored_settings(settings or SiteSettings()),
        created_at=now,
    )
    session.add(site)
    await session.flush()
    return site


def _stored_settings(settings: SiteSettings) -> dict[str, Any]:
    # Only what was set explicitly is stored, so that a later change of a default reaches
    # every site that never chose otherwise.
    return settings.model_dump(mode="json", exclude_unset=True)


@dataclass(frozen=True)
class SiteFile:
    """What a site TOML file says; None for what it leaves out."""

    name: str | None
    currency: str | None
    locale: str | None
    time_zone: str | None
    settings: SiteSettings | None


def _describe_validation(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        if item["type"] == "extra_forbidden":
            problems.append(f"unknown key settings.{where}")
        elif item["type"] == "missing":
            problems.append(f"missing key settings.{where}")
        else:
            problems.append(f"settings.{where}: {item['msg']}")
    return "; ".join(problems)


def parse_site_file(text: str) -> SiteFile:
    """Read a site file: `name`, `currency`, `locale`, `time_zone` at top level, policies under
    `[settings]` (keys of `SiteSettings`). Unknown keys are refused, never ignored: a typo
    would otherwise silently leave a policy at its default."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AdminError(f"not a valid TOML file: {exc}") from None
    unknown = sorted(set(data) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise AdminError(
            f"unknown key {', '.join(unknown)}; a site file may hold "
            f"{', '.join(TOP_LEVEL_KEYS[:-1])} and a [settings] table"
        )
    strings: dict[str, str | None] = {}
    for key in TOP_LEVEL_KEYS[:-1]:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise AdminError(f"{key} must be a string")
        strings[key] = value
    settings = None
    if "settings" in data:
        if not isinstance(data["settings"], dict):
            raise AdminError("settings must be a table: [settings]")
        try:
            settings = SiteSettings.model_validate(data["settings"])
        except ValidationError as exc:
            raise AdminError(_describe_validation(exc)) from None
    return SiteFile(
        name=strings["name"],
        currency=strings["currency"],
        locale=strings["locale"],
        time_zone=strings["time_zone"],
        settings=settings,
    )


async def apply_site_file(session: AsyncSession, *, code: str, text: str) -> Site:
    """Update a site from a site file. Top-level keys that are present replace the site's
    values; a `[settings]` table replaces all of its policies (what it leaves out takes the
    default)."""
    parsed = parse_site_file(text)
    site = await get_site(session, code)
    if parsed.name is not None:
        site.name = check_name(parsed.name)
    if parsed.currency is not None:
        currency = check_currency(parsed.currency)
        if currency != site.currency and await _has_ledger_entries(session, site):
            # Balances are sums of entries in the site's currency; changing it would relabel them.
            raise AdminError(
                f"site {site.code} already has money movements in {site.currency}; "
                "its currency cannot change"
            )
        site.currency = currency
    if parsed.locale is not None:
        site.locale = check_locale(parsed.locale)
    if parsed.time_zone is not None:
        site.time_zone = check_time_zone(parsed.time_zone)
    if parsed.settings is not None:
        site.settings = _stored_settings(parsed.settings)
    await session.flush()
    return site


async def _has_ledger_entries(session: AsyncSession, site: Site) -> bool:
    found = await session.scalar(
        select(LedgerEntry.id).where(LedgerEntry.site_id == site.id).limit(1)
    )
    return found is not None


def effective_settings(site: Site) -> SiteSettings:
    """The site's policies, defaults filled in."""
    return SiteSettings.model_validate(site.settings or {})
