"""A host's and reception's actions on visit requests: declare, edit, submit, cancel; approve
and reject; a host's answer to a walk-in. Each change of state goes through `visits.move_state`
(the transitions `visits.TRANSITIONS` allows); the rules, the reading and the expiry are in
`services.visits`, invitations in `services.invitations`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server import schemas_visits as sv
from kiosk_server.i18n import texts
from kiosk_server.models import Account, Device, Site, Visit, VisitVisitor
from kiosk_server.problems import ProblemError
from kiosk_server.services import audit
from kiosk_server.services.visits import (
    EDITABLE_STATES,
    Actor,
    FieldErrors,
    add_event,
    check_schedule,
    check_visitor,
    detail,
    host_visit,
    move_state,
    settings_of,
)


def _new_visitors(visit: Visit, cleaned: Sequence[dict[str, Any]]) -> list[VisitVisitor]:
    return [VisitVisitor(visit_id=visit.id, **fields) for fields in cleaned]


async def create_visit(
    session: AsyncSession,
    *,
    site: Site,
    host: Account,
    device: Device,
    body: sv.VisitCreate,
    now: dt.datetime,
) -> sv.VisitDetail:
    """A new visit, as a draft, or submitted at once when `body.submit`."""
    errors = FieldErrors()
    cleaned = [
        check_visitor(errors, f"visitors.{index}", visitor, contact=True)
        for index, visitor in enumerate(body.visitors)
    ]
    last_day = body.last_day or body.first_day
    check_schedule(
        errors,
        site=site,
        now=now,
        first_day=body.first_day,
        last_day=last_day,
        arrival_from=body.arrival_from,
        arrival_until=body.arrival_until,
    )
    errors.raise_if_any()
    reason, place = body.reason.strip(), body.place.strip()
    visit = Visit(
        site_id=site.id,
        host_account_id=host.id,
        state="draft",
        first_day=body.first_day,
        last_day=last_day,
        arrival_from=body.arrival_from,
        arrival_until=body.arrival_until,
        reason=reason,
        place=place,
        walk_in=False,
        created_at=now,
        updated_at=now,
    )
    session.add(visit)
    await session.flush()
    session.add_all(_new_visitors(visit, cleaned))
    await session.flush()
    if body.submit:
        await _submit(session, site=site, visit=visit, actor=Actor(device, host), now=now)
    return await detail(session, visit=visit)


async def edit_visit(
    session: AsyncSession,
    *,
    site: Site,
    host: Account,
    device: Device,
    visit_id: int,
    body: sv.VisitPatch,
    now: dt.datetime,
) -> sv.VisitDetail:
    """Change a visit until it is approved (`visit-not-editable` after)."""
    visit = await host_visit(session, host=host, visit_id=visit_id, lock=True)
    if visit.state not in EDITABLE_STATES:
        raise ProblemError("visit-not-editable", "This visit can no longer be changed.")
    errors = FieldErrors()
    cleaned: list[dict[str, Any]] | None = None
    if body.visitors is not None:
        cleaned = [
            check_visitor(errors, f"visitors.{index}", visitor, contact=True)
            for index, visitor in enumerate(body.visitors)
        ]
    first_day = body.first_day or visit.first_day
    if body.last_day is not None:
        last_day = body.last_day
    elif body.first_day is not None and visit.first_day == visit.last_day:
        last_day = body.first_day  # A one-day visit moved to another day stays one day.
    else:
        last_day = visit.last_day
    arrival_from = body.arrival_from or visit.arrival_from
    arrival_until = body.arrival_until or visit.arrival_until
    check_schedule(
        errors,
        site=site,
        now=now,
        first_day=first_day,
        last_day=last_day,
        arrival_from=arrival_from,
        arrival_until=arrival_until,
    )
    errors.raise_if_any()
    reason = body.reason.strip() if body.reason is not None else visit.reason
    place = body.place.strip() if body.place is not None else visit.place
    visit.first_day, visit.last_day = first_day, last_day
    visit.arrival_from, visit.arrival_until = arrival_from, arrival_until
    visit.reason, visit.place = reason, place
    visit.updated_at = now
    if cleaned is not None:
        await session.execute(delete(VisitVisitor).where(VisitVisitor.visit_id == visit.id))
        session.add_all(_new_visitors(visit, cleaned))
    add_event(session, visit=visit, kind="edited", actor=Actor(device, host), now=now)
    await session.flush()
    return await detail(session, visit=visit)


async def _submit(
    session: AsyncSession, *, site: Site, visit: Visit, actor: Actor, now: dt.datetime
) -> None:
    # Imported here: invitations build on this module.
    from kiosk_server.services import invitations

    move_state(visit, "submit", "requested", now)
    add_event(session, visit=visit, kind="submitted", actor=actor, now=now)
    if not settings_of(site).visit_approval_required:
        move_state(visit, "approve", "approved", now)
        add_event(session, visit=visit, kind="approved", actor=actor, now=now, detail="site policy")
        await audit.record(
            session,
            site_id=site.id,
            action="visit.approved",
            subject=f"visit:{visit.id}",
            now=now,
            actor_account_id=actor.account.id if actor.account else None,
            actor_device_id=actor.device.id if actor.device else None,
            detail={"by": "site policy"},
        )
        await invitations.send_invitations(session, site=site, visit=visit, actor=actor, now=now)
    await session.flush()


async def submit_visit(
    session: AsyncSession,
    *,
    site: Site,
    host: Account,
    device: Device,
    visit_id: int,
    now: dt.datetime,
) -> sv.VisitDetail:
    """Draft → requested, or → approved (invitations sent) when the site needs no approval."""
    visit = await host_visit(session, host=host, visit_id=visit_id, lock=True)
    if visit.state == "draft":
        # A draft may have been saved long ago: its days must still be ahead.
        errors = FieldErrors()
        check_schedule(
            errors,
            site=site,
            now=now,
            first_day=visit.first_day,
            last_day=visit.last_day,
            arrival_from=visit.arrival_from,
            arrival_until=visit.arrival_until,
        )
        errors.raise_if_any()
    await _submit(session, site=site, visit=visit, actor=Actor(device, host), now=now)
    return await detail(session, visit=visit)


async def cancel_visit(
    session: AsyncSession,
    *,
    site: Site,
    host: Account,
    device: Device,
    visit_id: int,
    now: dt.datetime,
) -> sv.VisitDetail:
    """Cancel until a visitor has checked in: invitations stop working at once (the state is
    checked on every use) and each invited visitor is told."""
    from kiosk_server.services import invitations

    visit = await host_visit(session, host=host, visit_id=visit_id, lock=True)
    was_approved = visit.state == "approved"
    move_state(visit, "cancel", "cancelled", now)
    actor = Actor(device, host)
    add_event(session, visit=visit, kind="cancelled", actor=actor, now=now)
    await audit.record(
        session,
        site_id=site.id,
        action="visit.cancelled",
        subject=f"visit:{visit.id}",
        now=now,
        actor_account_id=host.id,
        actor_device_id=device.id,
    )
    if was_approved:
        await invitations.send_cancellations(session, site=site, visit=visit, host=host, now=now)
    await session.flush()
    return await detail(session, visit=visit)


async def approve_visit(
    session: AsyncSession, *, site: Site, visit: Visit, actor: Actor, now: dt.datetime
) -> sv.VisitDetail:
    """Requested → approved; sends the invitations."""
    from kiosk_server.services import invitations

    move_state(visit, "approve", "approved", now)
    add_event(session, visit=visit, kind="approved", actor=actor, now=now)
    await audit.record(
        session,
        site_id=site.id,
        action="visit.approved",
        subject=f"visit:{visit.id}",
        now=now,
        actor_account_id=actor.account.id if actor.account else None,
        actor_device_id=actor.device.id if actor.device else None,
    )
    await invitations.send_invitations(session, site=site, visit=visit, actor=actor, now=now)
    await _tell_host(session, site=site, visit=visit, actor=actor, now=now)
    await session.flush()
    return await detail(session, visit=visit)


async def _hosts_walk_in(
    session: AsyncSession, *, host: Account, visit_id: int, refusal: str
) -> Visit:
    """The host's visit, locked, when it is a walk-in who asked for them (hosts answer only
    those: `visit-transition-forbidden` with `refusal` for the others)."""
    visit = await host_visit(session, host=host, visit_id=visit_id, lock=True)
    if not visit.walk_in:
        raise ProblemError("visit-transition-forbidden", refusal)
    return visit


async def host_approves_walk_in(
    session: AsyncSession,
    *,
    site: Site,
    host: Account,
    device: Device,
    visit_id: int,
    now: dt.datetime,
) -> sv.VisitDetail:
    """A host approves a walk-in who asked for them (other requests are reception's to
    approve: `visit-transition-forbidden`)."""
    visit = await _hosts_walk_in(
        session, host=host, visit_id=visit_id, refusal="Reception approves the visits you declare."
    )
    return await approve_visit(session, site=site, visit=visit, actor=Actor(device, host), now=now)


async def host_declines_walk_in(
    session: AsyncSession,
    *,
    site: Site,
    host: Account,
    device: Device,
    visit_id: int,
    now: dt.datetime,
) -> sv.VisitDetail:
    """A host declines a walk-in who asked for them: the visit is rejected, and the visitor
    waiting at the kiosk is told to ask the reception desk (only walk-ins, as for approving)."""
    visit = await _hosts_walk_in(
        session,
        host=host,
        visit_id=visit_id,
        refusal="Reception decides on the visits you declare.",
    )
    return await reject_visit(
        session, site=site, visit=visit, actor=Actor(device, host), reason="", now=now
    )


async def reject_visit(
    session: AsyncSession, *, site: Site, visit: Visit, actor: Actor, reason: str, now: dt.datetime
) -> sv.VisitDetail:
    cleaned = reason.strip()
    move_state(visit, "reject", "rejected", now)
    visit.rejection_reason = cleaned
    add_event(session, visit=visit, kind="rejected", actor=actor, now=now, detail=cleaned)
    await audit.record(
        session,
        site_id=site.id,
        action="visit.rejected",
        subject=f"visit:{visit.id}",
        now=now,
        actor_account_id=actor.account.id if actor.account else None,
        actor_device_id=actor.device.id if actor.device else None,
        detail={"reason": cleaned},
    )
    await _tell_host(session, site=site, visit=visit, actor=actor, now=now)
    await session.flush()
    return await detail(session, visit=visit)


async def _tell_host(
    session: AsyncSession, *, site: Site, visit: Visit, actor: Actor, now: dt.datetime
) -> None:
    """Reception approved or rejected the host's request: the host is told (not when the host
    decided it, as for a walk-in, nor when the site approves on submission)."""
    from kiosk_server.services import notifications

    if actor.account is None or actor.account.id == visit.host_account_id:
        return
    host = await session.get(Account, visit.host_account_id)
    if host is None:  # pragma: no cover - the foreign key holds it
        return
    approved = visit.state == "approved"
    day = f"{visit.first_day:%d/%m/%Y}"
    tr = texts(site.locale)
    title = (
        tr.gettext("Visit request approved") if approved else tr.gettext("Visit request rejected")
    )
    body = tr.gettext("Visit on %(day)s.") % {"day": day} + " "
    body += tr.gettext("The invitations are sent.") if approved else visit.rejection_reason or ""
    await notifications.notify(
        session,
        account=host,
        kind="visit_decided",
        title=title,
        body=body.strip(),
        now=now,
        data={
            "decision": "approved" if approved else "rejected",
            "first_day": visit.first_day.isoformat(),
            "reason": visit.rejection_reason or "",
        },
    )
