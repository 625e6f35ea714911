"""Evacuations with a muster: reception starts one (everyone on the roll call at that moment),
marks each person safe at the muster point as they arrive, sees who is missing, and closes it
with a report. At most one is open per site (a partial unique index guards it against two desks
starting at once). Each start and close is in the audit log."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from kiosk_server.db import as_utc
from kiosk_server.models import Account, EvacuationPerson, Visit, VisitVisitor
from kiosk_server.models import Evacuation as EvacuationRow
from kiosk_server.problems import ProblemError
from kiosk_server.schemas import SiteRef
from kiosk_server.schemas_evacuations import Evacuation, MusterPerson
from kiosk_server.services import audit, reception
from kiosk_server.services import visits as visit_rules
from kiosk_server.services.auth import SignedInPerson


async def start(session: AsyncSession, *, staff: SignedInPerson, now: dt.datetime) -> Evacuation:
    """Start an evacuation of the staff member's site with everyone on site now."""
    reception.require_reception(staff)
    site = staff.site
    if await _open_row(session, site_id=site.id) is not None:
        raise _in_progress()
    row = EvacuationRow(site_id=site.id, started_at=now, started_by_account_id=staff.account.id)
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:  # another desk started one at the same moment
        raise _in_progress() from None
    call = await reception.roll_call(session, site=site, now=now)
    session.add_all(
        EvacuationPerson(evacuation_id=row.id, visitor_id=person.visitor_id)
        for person in call.people
    )
    await audit.record(
        session,
        site_id=site.id,
        action="evacuation.started",
        subject=f"evacuation:{row.id}",
        now=now,
        actor_account_id=staff.account.id,
        detail={"people": len(call.people)},
    )
    await session.flush()
    return await view(session, staff=staff, evacuation_id=row.id)


async def current(session: AsyncSession, *, staff: SignedInPerson) -> Evacuation:
    """The evacuation in progress at the staff member's site (`evacuation-none` if none)."""
    reception.require_reception(staff)
    row = await _open_row(session, site_id=staff.site.id)
    if row is None:
        raise ProblemError("evacuation-none", "No evacuation is in progress on this site.")
    return await view(session, staff=staff, evacuation_id=row.id)


async def mark_safe(
    session: AsyncSession,
    *,
    staff: SignedInPerson,
    evacuation_id: int,
    visitor_id: int,
    now: dt.datetime,
) -> Evacuation:
    """Mark a person safe at the muster point (again: no change, the first mark stays)."""
    row = await _row(session, staff=staff, evacuation_id=evacuation_id)
    if row.closed_at is not None:
        raise _closed()
    person = await session.get(EvacuationPerson, (row.id, visitor_id))
    if person is None:
        raise ProblemError("visitor-unknown", "This person is not in this evacuation.")
    if person.safe_at is None:
        person.safe_at = now
        person.marked_by_account_id = staff.account.id
        await session.flush()
    return await view(session, staff=staff, evacuation_id=row.id)


async def close(
    session: AsyncSession, *, staff: SignedInPerson, evacuation_id: int, now: dt.datetime
) -> Evacuation:
    """Close the evacuation; the audit log keeps how many were safe and missing."""
    row = await _row(session, staff=staff, evacuation_id=evacuation_id)
    if row.closed_at is not None:
        raise _closed()
    row.closed_at = now
    row.closed_by_account_id = staff.account.id
    await session.flush()
    result = await view(session, staff=staff, evacuation_id=row.id)
    await audit.record(
        session,
        site_id=row.site_id,
        action="evacuation.closed",
        subject=f"evacuation:{row.id}",
        now=now,
        actor_account_id=staff.account.id,
        detail={"safe": result.safe, "missing": result.missing},
    )
    return result


async def view(session: AsyncSession, *, staff: SignedInPerson, evacuation_id: int) -> Evacuation:
    """An evacuation of the staff member's site, with its people: the missing first."""
    row = await _row(session, staff=staff, evacuation_id=evacuation_id)
    host, marker = aliased(Account), aliased(Account)
    rows = (
        await session.execute(
            select(
                VisitVisitor.id,
                VisitVisitor.first_name,
                VisitVisitor.last_name,
                VisitVisitor.company,
                host.name,
                VisitVisitor.checked_in_at,
                EvacuationPerson.safe_at,
                marker.name,
            )
            .select_from(EvacuationPerson)
            .join(VisitVisitor, VisitVisitor.id == EvacuationPerson.visitor_id)
            .join(Visit, Visit.id == VisitVisitor.visit_id)
            .join(host, host.id == Visit.host_account_id)
            .outerjoin(marker, marker.id == EvacuationPerson.marked_by_account_id)
            .where(EvacuationPerson.evacuation_id == row.id)
        )
    ).all()
    people = sorted(
        (
            MusterPerson(
                visitor_id=visitor_id,
                first_name=first_name,
                last_name=last_name,
                company=company,
                host_name=host_name,
                checked_in_at=as_utc(checked_in_at) if checked_in_at else row.started_at,
                safe_at=as_utc(safe_at) if safe_at else None,
                marked_by=marked_by,
            )
            for visitor_id, first_name, last_name, company, host_name, checked_in_at, safe_at, marked_by in rows
        ),
        key=lambda p: (p.safe_at is not None, visit_rules.fold_text(p.last_name), p.visitor_id),
    )
    names = {
        account_id: name
        for account_id, name in (
            await session.execute(
                select(Account.id, Account.name).where(
                    Account.id.in_(
                        [i for i in (row.started_by_account_id, row.closed_by_account_id) if i]
                    )
                )
            )
        ).all()
    }
    safe = sum(1 for person in people if person.safe_at is not None)
    site = staff.site
    return Evacuation(
        id=row.id,
        site=SiteRef(code=site.code, name=site.name),
        started_at=as_utc(row.started_at),
        started_by=names.get(row.started_by_account_id or 0, ""),
        closed_at=as_utc(row.closed_at) if row.closed_at else None,
        closed_by=names.get(row.closed_by_account_id or 0) if row.closed_at else None,
        safe=safe,
        missing=len(people) - safe,
        people=people,
    )


def report_csv(staff: SignedInPerson, evacuation: Evacuation) -> str:
    """The evacuation as CSV (times in the site's time zone): who was safe, when and marked by
    whom, and who was still missing; cells guarded against formula injection."""
    zone = visit_rules.zone(staff.site)

    def local(moment: dt.datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    cell = reception.csv_cell
    writer.writerow(
        [
            cell(f"Evacuation {evacuation.site.name}"),
            local(evacuation.started_at),
            local(evacuation.closed_at) or "in progress",
            f"safe {evacuation.safe}",
            f"missing {evacuation.missing}",
        ]
    )
    writer.writerow(
        ["status", "last_name", "first_name", "company", "host", "checked_in_at", "safe_at",
         "marked_by"]
    )  # fmt: skip
    for person in evacuation.people:
        writer.writerow(
            [
                "safe" if person.safe_at else "missing",
                cell(person.last_name),
                cell(person.first_name),
                cell(person.company),
                cell(person.host_name),
                local(person.checked_in_at),
                local(person.safe_at),
                cell(person.marked_by or ""),
            ]
        )
    return buffer.getvalue()


async def _open_row(session: AsyncSession, *, site_id: int) -> EvacuationRow | None:
    return await session.scalar(
        select(EvacuationRow).where(
            EvacuationRow.site_id == site_id, EvacuationRow.closed_at.is_(None)
        )
    )


async def _row(
    session: AsyncSession, *, staff: SignedInPerson, evacuation_id: int
) -> EvacuationRow:
    reception.require_reception(staff)
    row = await session.get(EvacuationRow, evacuation_id)
    if row is None or row.site_id != staff.site.id:
        raise ProblemError("evacuation-unknown", "No such evacuation on this site.")
    return row


def _in_progress() -> ProblemError:
    return ProblemError(
        "evacuation-in-progress", "An evacuation is already in progress on this site."
    )


def _closed() -> ProblemError:
    return ProblemError("evacuation-closed", "This evacuation is closed.")
