"""Loading a site's catalogue from a TOML file (`kiosk-server catalogue load CODE FILE.toml`).

The whole file is checked before anything is written: every error is reported with its item's
code, and a file with any error changes nothing. Items are upserted by code; items of the site
that the file does not name are left as they are (set `active = false` to withdraw one).

```toml
[[items]]
code = "PLAT"                 # 1-32 of A-Z, 0-9, _ and - (stored upper-case)
name = "Plat du jour"
description = "..."           # optional
kind = "product"              # or "service"; default product
price_cents = 850             # VAT included
vat_rate_bp = 1000            # basis points: 10 % = 1000
allergens = ["gluten", "milk"]  # codes of the 14 EU allergens
available_from = 11:30:00     # a TOML time or "11:30", site time zone; optional
available_until = 14:00:00
days = ["mon", "tue", "wed", "thu", "fri"]   # optional: every day
order_deadline = 10:30:00     # optional: orders for today close then
stock = 20                    # optional: unlimited
active = true                 # optional
translations.en = { name = "Dish of the day", description = "..." }   # optional, per language
```

`translations` gives a terminal in another language than the site's the item's name and
description in it (`en`, `fr`...: two letters); what it leaves out stays in the site's.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.admin import AdminError
from kiosk_server.admin.sites import get_site
from kiosk_server.fields import forbidden_character
from kiosk_server.models import CatalogueItem, Site
from kiosk_server.services.catalogue import ALLERGENS

ITEM_CODE = re.compile(r"[A-Z0-9_-]{1,32}")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ITEM_KEYS = frozenset(
    {
        "code",
        "name",
        "description",
        "kind",
        "price_cents",
        "vat_rate_bp",
        "allergens",
        "available_from",
        "available_until",
        "days",
        "order_deadline",
        "stock",
        "active",
        "translations",
    }
)
FRENCH_VAT_RATES_BP = (0, 210, 550, 1000, 2000)
MAX_VAT_RATE_BP = 3000
MAX_PRICE_CENTS = 100_000


DEMO_CATALOGUE = "demo_catalogue.toml"
"""The demo site's catalogue, shipped in this package (a copy of examples/catalogue.toml)."""


def demo_catalogue_text() -> str:
    """The text of the catalogue the demo site is seeded with."""
    return resources.files("kiosk_server.admin").joinpath(DEMO_CATALOGUE).read_text("utf-8")


class CatalogueFileError(AdminError):
    """A catalogue file with errors; `errors` lists each, prefixed with its item's code."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__(
            f"{len(errors)} error(s) in the catalogue, nothing loaded: " + "; ".join(errors)
        )


@dataclass(frozen=True)
class ItemSpec:
    """One checked item of a catalogue file."""

    code: str
    name: str
    description: str
    kind: str
    price_cents: int
    vat_rate_bp: int
    allergens: list[str]
    available_from: dt.time | None
    available_until: dt.time | None
    days: list[int]
    order_deadline: dt.time | None
    stock: int | None
    active: bool
    translations: dict[str, dict[str, str]]


@dataclass(frozen=True)
class LoadReport:
    """What a load did."""

    created: list[str]
    updated: list[str]


def _text(
    raw: dict[str, Any],
    key: str,
    errors: list[str],
    *,
    required: bool,
    limit: int,
    multiline: bool = False,
) -> str:
    value = raw.get(key, "" if not required else None)
    if not isinstance(value, str) or (required and not value.strip()):
        errors.append(f"{key} must be {'non-empty ' if required else ''}text")
        return ""
    value = value.strip()
    if len(value) > limit:
        errors.append(f"{key} must be at most {limit} characters")
    elif (character := forbidden_character(value, multiline=multiline)) is not None:
        errors.append(f"{key} must not contain control characters ({character})")
    return value


def _integer(raw: dict[str, Any], key: str, errors: list[str], low: int, high: int) -> int | None:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(f"{key} must be a whole number")
        return None
    if not low <= value <= high:
        errors.append(f"{key} must be between {low} and {high}")
        return None
    return value


def _time(raw: dict[str, Any], key: str, errors: list[str]) -> dt.time | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, dt.time):
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value.strip())
        except ValueError:
            pass
    errors.append(f"{key} must be a time of day such as 10:30")
    return None


def _vat(raw: dict[str, Any], errors: list[str], french: bool) -> int:
    rate = _integer(raw, "vat_rate_bp", errors, 0, MAX_VAT_RATE_BP)
    if rate is None:
        return 0
    if french and rate not in FRENCH_VAT_RATES_BP:
        allowed = ", ".join(str(r) for r in FRENCH_VAT_RATES_BP)
        errors.append(f"vat_rate_bp {rate} is not a French VAT rate ({allowed}; 10 % = 1000)")
    return rate


def _allergens(raw: dict[str, Any], errors: list[str]) -> list[str]:
    value = raw.get("allergens", [])
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        errors.append("allergens must be a list of allergen codes")
        return []
    codes = [a.strip().lower() for a in value]
    unknown = [a for a in codes if a not in ALLERGENS]
    if unknown:
        errors.append(f"unknown allergen(s) {', '.join(unknown)} (known: {', '.join(ALLERGENS)})")
    return sorted(set(codes) - set(unknown), key=ALLERGENS.index)


def _days(raw: dict[str, Any], errors: list[str]) -> list[int]:
    value = raw.get("days", [])
    days: set[int] = set()
    if not isinstance(value, list):
        errors.append('days must be a list such as ["mon", "tue"]')
        return []
    for day in value:
        if isinstance(day, str) and day.strip().lower()[:3] in DAYS:
            days.add(DAYS.index(day.strip().lower()[:3]) + 1)
        elif isinstance(day, int) and not isinstance(day, bool) and 1 <= day <= 7:
            days.add(day)
        else:
            errors.append(f"unknown day {day!r} (use mon..sun or 1..7)")
    return sorted(days)


LANGUAGE = re.compile(r"[a-z]{2}")


def _translations(raw: dict[str, Any], errors: list[str]) -> dict[str, dict[str, str]]:
    value = raw.get("translations", {})
    if not isinstance(value, dict):
        errors.append('translations must be a table such as translations.en = { name = "..." }')
        return {}
    found: dict[str, dict[str, str]] = {}
    for language, texts in value.items():
        if not LANGUAGE.fullmatch(language):
            errors.append(f"translations: {language!r} is not a two-letter language code")
            continue
        if not isinstance(texts, dict) or not texts:
            errors.append(f"translations.{language} must be a table with a name or description")
            continue
        errors += [
            f"translations.{language}: unknown key {key}"
            for key in sorted(set(texts) - {"name", "description"})
        ]
        own: dict[str, str] = {}
        if "name" in texts:
            own["name"] = _text(texts, "name", errors, required=True, limit=200)
        if "description" in texts:
            own["description"] = _text(
                texts, "description", errors, required=False, limit=2000, multiline=True
            )
        found[language] = own
    return found


def _item(raw: Any, index: int, french: bool) -> tuple[str, ItemSpec | None, list[str]]:
    """The item's code (or its position when it has none), the item, and its errors."""
    if not isinstance(raw, dict):
        return f"item #{index + 1}", None, ["must be a table ([[items]])"]
    raw_code = raw.get("code")
    code = raw_code.strip().upper() if isinstance(raw_code, str) else ""
    label = code or f"item #{index + 1}"
    errors: list[str] = []
    if not ITEM_CODE.fullmatch(code):
        errors.append("code must be 1 to 32 of A-Z, 0-9, _ and -")
    errors += [f"unknown key {key}" for key in sorted(set(raw) - ITEM_KEYS)]
    name = _text(raw, "name", errors, required=True, limit=200)
    description = _text(raw, "description", errors, required=False, limit=2000, multiline=True)
    kind = raw.get("kind", "product")
    if kind not in ("product", "service"):
        errors.append("kind must be product or service")
    price = _integer(raw, "price_cents", errors, 0, MAX_PRICE_CENTS)
    vat = _vat(raw, errors, french)
    allergens = _allergens(raw, errors)
    available_from = _time(raw, "available_from", errors)
    available_until = _time(raw, "available_until", errors)
    if available_from is not None and available_from == available_until:
        errors.append("available_from and available_until are the same time")
    days = _days(raw, errors)
    deadline = _time(raw, "order_deadline", errors)
    stock = _integer(raw, "stock", errors, 0, 1_000_000) if "stock" in raw else None
    active = raw.get("active", True)
    if not isinstance(active, bool):
        errors.append("active must be true or false")
    translations = _translations(raw, errors)
    if errors:
        return label, None, errors
    spec = ItemSpec(
        code=code,
        name=name,
        description=description,
        kind=str(kind),
        price_cents=price or 0,
        vat_rate_bp=vat,
        allergens=allergens,
        available_from=available_from,
        available_until=available_until,
        days=days,
        order_deadline=deadline,
        stock=stock,
        active=bool(active),
        translations=translations,
    )
    return label, spec, []


def parse_catalogue(text: str, *, site: Site) -> list[ItemSpec]:
    """Every item of the file, checked; `CatalogueFileError` lists every error found."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueFileError([f"not valid TOML: {exc}"]) from None
    unknown = sorted(set(document) - {"items"})
    errors = [f"unknown top-level key {key} (items go in [[items]] tables)" for key in unknown]
    raw_items = document.get("items", [])
    if not isinstance(raw_items, list) or not raw_items:
        raise CatalogueFileError([*errors, "no [[items]] in the file"])
    french = site.locale.upper().endswith("_FR")
    specs: list[ItemSpec] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_items):
        label, spec, item_errors = _item(raw, index, french)
        if label in seen:
            item_errors.append("the code appears twice in the file")
        seen.add(label)
        errors += [f"{label}: {error}" for error in item_errors]
        if spec is not None and not item_errors:
            specs.append(spec)
    if errors:
        raise CatalogueFileError(errors)
    return specs


async def load_catalogue(session: AsyncSession, *, site_code: str, text: str) -> LoadReport:
    """Upsert the file's items into the site's catalogue (flushed, not committed). Raises
    `CatalogueFileError` (nothing written) when the file has errors."""
    site = await get_site(session, site_code)
    specs = parse_catalogue(text, site=site)
    existing = {
        item.code: item
        for item in (
            await session.scalars(select(CatalogueItem).where(CatalogueItem.site_id == site.id))
        ).all()
    }
    created: list[str] = []
    updated: list[str] = []
    for position, spec in enumerate(specs):
        item = existing.get(spec.code)
        if item is None:
            item = CatalogueItem(site_id=site.id, code=spec.code)
            session.add(item)
            created.append(spec.code)
        else:
            updated.append(spec.code)
        item.name = spec.name
        item.description = spec.description
        item.kind = spec.kind
        item.price_cents = spec.price_cents
        item.vat_rate_bp = spec.vat_rate_bp
        item.allergens = list(spec.allergens)
        item.available_from = spec.available_from
        item.available_until = spec.available_until
        item.days = list(spec.days)
        item.order_deadline = spec.order_deadline
        item.stock = spec.stock
        item.active = spec.active
        item.position = position
        item.translations = {language: dict(texts) for language, texts in spec.translations.items()}
    await session.flush()
    return LoadReport(created=created, updated=updated)
