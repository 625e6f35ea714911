"""Automatic check-out: a site may check its visitors out at a set hour
(`auto_checkout_time`) or after a duration on site (`auto_checkout_after_minutes`), and remind
the host before (`checkout_reminder_minutes`).

`sweep` does both for every site that asks; the service runs it every minute
(`app.lifespan`). Each visitor is checked out, and each host reminded, by guarded statements:
several workers sweeping at once check out and remind once. A check-out is recorded at the time
it was due, not the time of the sweep, with no actor (history and audit say so)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.db import as_utc
from kiosk_server.i18n import texts
from kiosk_server.models import Account, Site, Visit, VisitVisitor
from kiosk_server.services import notifications
from kiosk_server.services import visits as visit_rules
from kiosk_server.services.visitor_desk import Presented, record_check_out
from kiosk_server.site_settings import SiteSettings


@dataclass(frozen=True, slots=True)
class Swept:
    """What one sweep did."""

    checked_out: int = 0
    reminded: int = 0


def due_at(
    settings: SiteSettings, zone: dt.tzinfo, checked_in_at: dt.datetime
) -> dt.datetime | None:
    """When a visitor who arrived at `checked_in_at` is checked out automatically (None: never)."""
    arrived = as_utc(checked_in_at)
    due: list[dt.datetime] = []
    if settings.auto_checkout_after_minutes is not None:
        due.append(arrived + dt.timedelta(minutes=settings.auto_checkout_after_minutes))
    if settings.auto_checkout_time is not None:
        local = arrived.astimezone(zone)
        cutoff = dt.datetime.combine(local.date(), settings.auto_checkout_time, tzinfo=zone)
        if cutoff <= local:
            cutoff = dt.datetime.combine(
                local.date() + dt.timedelta(days=1), settings.auto_checkout_time, tzinfo=zone
            )
        due.append(cutoff.astimezone(dt.UTC))
    return min(due) if due else None


async def sweep(session: AsyncSession, *, now: dt.datetime) -> Swept:
    """Check out the visitors whose automatic check-out is due, and remind the hosts of those
    due within the site's reminder time (committing as it goes: one visitor at a time)."""
    checked_out = reminded = 0
    for site in (await session.scalars(select(Site).order_by(Site.id))).all():
        settings = visit_rules.settings_of(site)
        if settings.auto_checkout_time is None and settings.auto_checkout_after_minutes is None:
            continue
        zone = visit_rules.zone(site)
        since = now - dt.timedelta(days=2)  # nobody stays on past a closing time
        rows = (
            await session.execute(
                select(
                    VisitVisitor.id, VisitVisitor.checked_in_at, VisitVisitor.checkout_reminded_at
                )
                .join(Visit, Visit.id == VisitVisitor.visit_id)
                .where(
                    Visit.site_id == site.id,
                    VisitVisitor.checked_in_at.is_not(None),
                    VisitVisitor.checked_in_at > since,
                    VisitVisitor.checked_out_at.is_(None),
                )
            )
        ).all()
        await session.commit()
        reminder = dt.timedelta(minutes=settings.checkout_reminder_minutes)
        for visitor_id, checked_in_at, reminded_at in rows:
            due = due_at(settings, zone, checked_in_at) if checked_in_at is not None else None
            if due is None:
                continue
            if due <= now:
                checked_out += await _check_out(session, site=site, visitor_id=visitor_id, due=due)
            elif reminder and reminded_at is None and due - reminder <= now:
                reminded += await _remind(
                    session, site=site, visitor_id=visitor_id, due=due, now=now
                )
    return Swept(checked_out=checked_out, reminded=reminded)


async def _check_out(
    session: AsyncSession, *, site: Site, visitor_id: int, due: dt.datetime
) -> int:
    row = (
        await session.execute(
            select(Visit, VisitVisitor, Account)
            .join(VisitVisitor, VisitVisitor.visit_id == Visit.id)
            .join(Account, Account.id == Visit.host_account_id)
            .where(VisitVisitor.id == visitor_id, VisitVisitor.checked_out_at.is_(None))
            .with_for_update(of=[Visit, VisitVisitor])
        )
    ).first()
    if row is None:  # checked out meanwhile, by a person or another worker
        await session.rollback()
        return 0
    found = Presented(site=site, visit=row[0], visitor=row[1], host=row[2])
    await record_check_out(session, found, actor=visit_rules.Actor(device=None), now=due)
    await session.commit()
    return 1


async def _remind(
    session: AsyncSession, *, site: Site, visitor_id: int, due: dt.datetime, now: dt.datetime
) -> int:
    claimed = await session.execute(
        update(VisitVisitor)
        .where(VisitVisitor.id == visitor_id, VisitVisitor.checkout_reminded_at.is_(None))
        .values(checkout_reminded_at=now)
    )
    if getattr(claimed, "rowcount", 0) != 1:  # another worker reminded
        await session.rollback()
        return 0
    row = (
        await session.execute(
            select(VisitVisitor, Account)
            .join(Visit, Visit.id == VisitVisitor.visit_id)
            .join(Account, Account.id == Visit.host_account_id)
            .where(VisitVisitor.id == visitor_id)
        )
    ).one()
    visitor, host = row
    tr = texts(site.locale)
    time = due.astimezone(visit_rules.zone(site)).strftime("%H:%M")
    await notifications.notify(
        session,
        account=host,
        kind="visitor_checkout_soon",
        data=visit_rules.visitor_facts(visitor),
        title=tr.gettext("Your visitor will be checked out soon"),
        body=tr.gettext("%(who)s will be checked out automatically at %(time)s.")
        % {"who": visit_rules.visitor_name(visitor), "time": time},
        now=now,
    )
    await session.commit()
    return 1
