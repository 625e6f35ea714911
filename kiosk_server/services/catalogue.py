"""A site's catalogue: what can be ordered, when, and at what price.

Availability is decided here, in the site's time zone: an item is sold on its days (empty: every
day), between `available_from` and `available_until` (a window may run past midnight), before
its `order_deadline` for the day, and while its stock lasts (NULL: unlimited). The catalogue
lists every active item, with `available: false` and a reason for those that cannot be ordered
now, so that a terminal can show them greyed out.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.models import CatalogueItem, Site
from kiosk_server.schemas import Money
from kiosk_server.schemas_orders import Catalogue, CatalogueItemOut, ItemText

ALLERGENS: tuple[str, ...] = (
    "gluten",
    "crustaceans",
    "eggs",
    "fish",
    "peanuts",
    "soybeans",
    "milk",
    "nuts",
    "celery",
    "mustard",
    "sesame",
    "sulphites",
    "lupin",
    "molluscs",
)
"""The 14 allergens EU regulation 1169/2011 requires to be declared, by stable code."""

Reason = Literal["sold_out", "deadline_passed", "not_now"]


def local_now(site: Site, now: dt.datetime) -> dt.datetime:
    """`now` in the site's time zone."""
    return now.astimezone(ZoneInfo(site.time_zone))


def _in_window(start: dt.time | None, end: dt.time | None, moment: dt.time) -> bool:
    if start is None:
        return end is None or moment < end
    if end is None:
        return moment >= start
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end  # A window past midnight (e.g. 22:00-02:00).


def unavailability(item: CatalogueItem, local: dt.datetime) -> Reason | None:
    """Why the item cannot be ordered at the site-local time `local`, or None when it can.
    "Not now" wins over "deadline passed", which wins over "sold out": the reason that lasts
    longest is the most useful one to show."""
    moment = local.time().replace(tzinfo=None)
    if item.days and local.isoweekday() not in item.days:
        return "not_now"
    if not _in_window(item.available_from, item.available_until, moment):
        return "not_now"
    if item.order_deadline is not None and moment >= item.order_deadline:
        return "deadline_passed"
    if item.stock is not None and item.stock <= 0:
        return "sold_out"
    return None


def item_out(item: CatalogueItem, site: Site, local: dt.datetime) -> CatalogueItemOut:
    reason = unavailability(item, local)
    return CatalogueItemOut(
        code=item.code,
        name=item.name,
        description=item.description,
        kind="service" if item.kind == "service" else "product",
        price=Money(amount_cents=item.price_cents, currency=site.currency),
        vat_rate_bp=item.vat_rate_bp,
        allergens=list(item.allergens or []),
        available=reason is None,
        reason=reason,
        available_from=item.available_from,
        available_until=item.available_until,
        order_deadline=item.order_deadline,
        stock=item.stock,
        translations={
            language: ItemText(
                name=texts.get("name") or item.name,
                description=texts.get("description", item.description),
            )
            for language, texts in sorted((item.translations or {}).items())
        },
    )


async def active_items(session: AsyncSession, site: Site) -> list[CatalogueItem]:
    """The site's active items, in display order."""
    rows = await session.scalars(
        select(CatalogueItem)
        .where(CatalogueItem.site_id == site.id, CatalogueItem.active.is_(True))
        .order_by(CatalogueItem.position, CatalogueItem.code)
    )
    return list(rows.all())


async def catalogue(session: AsyncSession, *, site: Site, now: dt.datetime) -> Catalogue:
    """Every active item of the site, each with whether it can be ordered now and why not."""
    local = local_now(site, now)
    items = await active_items(session, site)
    return Catalogue(
        currency=site.currency,
        time_zone=site.time_zone,
        items=[item_out(item, site, local) for item in items],
    )


__all__ = ["ALLERGENS", "Reason", "catalogue", "local_now", "unavailability"]
