"""`kiosk-server purge`: the retention of visitor personal data, and housekeeping.

A visitor's name, company and contacts are emptied `visitor_retention_days` after their visit's
last day (site setting, 30 by default); the visit, its history and the visitor's row stay as an
anonymous record (`anonymised_at`). Undelivered messages to them leave the outbox, and the audit
log's details that name them are emptied. Over-due visits are expired first, and used
idempotency keys older than a day are deleted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.admin.sites import get_site
from kiosk_server.models import (
    AuditLogEntry,
    OutboxMessage,
    Site,
    Visit,
    VisitorPhoto,
    VisitVisitor,
)
from kiosk_server.services import idempotency_keys
from kiosk_server.services.audit import PERSONAL_DETAIL_KEYS
from kiosk_server.services.visits import expire_visits, local_now, settings_of


@dataclass(frozen=True)
class SitePurge:
    """What the purge did on one site."""

    site_code: str
    visits_expired: int
    visitors_anonymised: int
    messages_deleted: int
    audit_entries_scrubbed: int


@dataclass(frozen=True)
class PurgeReport:
    sites: list[SitePurge]
    idempotency_keys_deleted: int


async def purge_site(session: AsyncSession, *, site: Site, now: dt.datetime) -> SitePurge:
    """Apply the site's retention (flushed, not committed)."""
    expired = await expire_visits(session, site=site, now=now)
    retention = dt.timedelta(days=settings_of(site).visitor_retention_days)
    # Kept through the whole retention day after the last day: purged from the next one.
    newest_purged_day = local_now(site, now).date() - retention - dt.timedelta(days=1)
    visitors = (
        await session.scalars(
            select(VisitVisitor)
            .join(Visit, Visit.id == VisitVisitor.visit_id)
            .where(
                Visit.site_id == site.id,
                Visit.last_day <= newest_purged_day,
                VisitVisitor.anonymised_at.is_(None),
            )
        )
    ).all()
    contacts: set[str] = set()
    for visitor in visitors:
        contacts.update(c for c in (visitor.email, visitor.phone) if c)
        visitor.first_name = ""
        visitor.last_name = ""
        visitor.company = ""
        visitor.email = None
        visitor.phone = None
        visitor.code_hash = None
        visitor.anonymised_at = now
    purged_ids = [visitor.id for visitor in visitors]
    for start in range(0, len(purged_ids), 500):
        await session.execute(
            delete(VisitorPhoto).where(VisitorPhoto.visitor_id.in_(purged_ids[start : start + 500]))
        )
    messages = 0
    if contacts:
        # Invitations and cancellations go to visitors, who have no account.
        result = await session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.site_id == site.id,
                OutboxMessage.account_id.is_(None),
                OutboxMessage.recipient.in_(sorted(contacts)),
            )
        )
        messages = int(getattr(result, "rowcount", 0) or 0)
    scrubbed = 0
    subjects = [f"visitor:{visitor.id}" for visitor in visitors]
    for start in range(0, len(subjects), 500):
        entries = await session.scalars(
            select(AuditLogEntry).where(
                AuditLogEntry.site_id == site.id,
                AuditLogEntry.subject.in_(subjects[start : start + 500]),
            )
        )
        for entry in entries:
            if PERSONAL_DETAIL_KEYS & set(entry.detail):
                entry.detail = {
                    key: value
                    for key, value in entry.detail.items()
                    if key not in PERSONAL_DETAIL_KEYS
                } | {"anonymised": True}
                scrubbed += 1
    await session.flush()
    return SitePurge(
        site_code=site.code,
        visits_expired=expired,
        visitors_anonymised=len(visitors),
        messages_deleted=messages,
        audit_entries_scrubbed=scrubbed,
    )


async def purge(session: AsyncSession, *, site_code: str | None, now: dt.datetime) -> PurgeReport:
    """Purge one site (`site_code`) or every site, and old idempotency keys."""
    if site_code is not None:
        sites = [await get_site(session, site_code)]
    else:
        sites = list((await session.scalars(select(Site).order_by(Site.code))).all())
    done = [await purge_site(session, site=site, now=now) for site in sites]
    keys = await idempotency_keys.purge_keys(session, now=now)
    return PurgeReport(sites=done, idempotency_keys_deleted=keys)
