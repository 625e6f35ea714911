"""Visit requests: what a host declares, edits, submits and cancels, and the transitions
reception makes (approve, reject). Invitations and visitor check-in are in
`services.invitations`; the reception desk's lists in `services.reception`.

States: draft → requested → approved → checked_in → checked_out; or rejected, cancelled,
expired. Every change of state goes through `_move`, which refuses what `TRANSITIONS` does not
allow with `visit-transition-forbidden`. Times of day are in the site's time zone.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server import schemas_visits as sv
from kiosk_server.db import as_utc
from kiosk_server.fields import is_email, is_phone
from kiosk_server.i18n import texts
from kiosk_server.models import Account, Device, Site, Visit, VisitEvent, VisitVisitor
from kiosk_server.problems import FieldError, ProblemError
from kiosk_server.services import audit
from kiosk_server.site_settings import SiteSettings

TRANSITIONS: dict[str, frozenset[str]] = {
    "submit": frozenset({"draft"}),
    "approve": frozenset({"requested"}),
    "reject": frozenset({"requested"}),
    "cancel": frozenset({"draft", "requested", "approved"}),
    "expire": frozenset({"draft", "requested", "approved"}),
}
"""Which states each action leaves from."""
EDITABLE_STATES = frozenset({"draft", "requested"})
ARRIVED_STATES = frozenset({"approved", "checked_in", "checked_out"})
"""States in which a visitor may check in (or out)."""
MAX_DAYS = 92
"""The longest visit, in days: a quarter."""


@dataclass(frozen=True)
class Actor:
    """Who moves a visit: a person on a terminal, or a terminal alone (the visitor desk)."""

    device: Device | None
    account: Account | None = None


def settings_of(site: Site) -> SiteSettings:
    return SiteSettings.model_validate(site.settings or {})


def zone(site: Site) -> ZoneInfo:
    return ZoneInfo(site.time_zone)


def local_now(site: Site, now: dt.datetime) -> dt.datetime:
    return now.astimezone(zone(site))


def at_local(site: Site, day: dt.date, time: dt.time) -> dt.datetime:
    """`time` on `day` in the site's time zone, as an aware datetime."""
    return dt.datetime.combine(day, time, tzinfo=zone(site))


def fold_text(text: str) -> str:
    """For comparing names: case, accents and runs of spaces ignored."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def visitor_name(visitor: VisitVisitor) -> str:
    return f"{visitor.first_name} {visitor.last_name}".strip()


def visitor_facts(visitor: VisitVisitor) -> dict[str, str | int]:
    """What a notification about the visitor is made of (its `data`)."""
    return {"visitor_name": visitor_name(visitor), "company": visitor.company}


def window_end(site: Site, visit: Visit) -> dt.datetime:
    """When the visit's last arrival window ends, margin included: after this, an invitation
    no longer checks in, and a visit nobody came to is expired."""
    margin = dt.timedelta(minutes=settings_of(site).invitation_margin_minutes)
    return at_local(site, visit.last_day, visit.arrival_until) + margin


def leaves_roll_call_at(site: Site, visitor: VisitVisitor) -> dt.datetime | None:
    """The first closing time after the visitor's check-in: a visitor not checked out by then
    is no longer counted on site."""
    if visitor.checked_in_at is None:
        return None
    checked_in = as_utc(visitor.checked_in_at)
    local = checked_in.astimezone(zone(site))
    closing = at_local(site, local.date(), settings_of(site).site_closing_time)
    if closing <= checked_in:
        closing += dt.timedelta(days=1)
    return closing


def is_on_site(site: Site, visitor: VisitVisitor, now: dt.datetime) -> bool:
    closing = leaves_roll_call_at(site, visitor)
    return closing is not None and visitor.checked_out_at is None and now < closing


def is_overdue(site: Site, visit: Visit, visitor: VisitVisitor, now: dt.datetime) -> bool:
    """On site past the end of the arrival window of the day they checked in."""
    if visitor.checked_in_at is None or not is_on_site(site, visitor, now):
        return False
    day = as_utc(visitor.checked_in_at).astimezone(zone(site)).date()
    return now > at_local(site, day, visit.arrival_until)


# --- validation ------------------------------------------------------------------------------


class FieldErrors:
    """What the schema cannot check (a day in the past, a window already over, a visitor
    without a contact), gathered over a whole request and raised together as `visit-invalid`.
    The request's text already follows `kiosk_server.fields` (checked with the schema)."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.items.append(FieldError(field=field, message=message))

    def raise_if_any(self) -> None:
        if self.items:
            raise ProblemError(
                "visit-invalid", "Some fields are missing or wrong.", errors=self.items
            )


def check_visitor(
    errors: FieldErrors, prefix: str, visitor: sv.VisitorIn, *, contact: bool
) -> dict[str, Any]:
    def field(name: str) -> str:
        return f"{prefix}.{name}" if prefix else name

    email = (visitor.email or "").strip() or None
    phone = (visitor.phone or "").strip() or None
    if email is not None and not is_email(email):
        errors.add(field("email"), "is not an email address")
    if phone is not None and not is_phone(phone):
        errors.add(field("phone"), "is not a phone number")
    if contact and email is None and phone is None:
        errors.add(field("email"), "give an email or a phone to send the invitation to")
    return {
        "first_name": visitor.first_name.strip(),
        "last_name": visitor.last_name.strip(),
        "company": visitor.company.strip(),
        "email": email,
        "phone": phone,
    }


def _check_schedule(
    errors: FieldErrors,
    *,
    site: Site,
    now: dt.datetime,
    first_day: dt.date,
    last_day: dt.date,
    arrival_from: dt.time,
    arrival_until: dt.time,
) -> None:
    today = local_now(site, now).date()
    if first_day < today:
        errors.add("first_day", "is in the past")
    if last_day < first_day:
        errors.add("last_day", "is before the first day")
    elif (last_day - first_day).days >= MAX_DAYS:
        errors.add("last_day", f"a visit lasts at most {MAX_DAYS} days")
    if arrival_until <= arrival_from:
        errors.add("arrival_until", "is not after the start of the arrival window")
    elif last_day >= today and at_local(site, last_day, arrival_until) <= now:
        errors.add("arrival_until", "the arrival window is already over")


# --- reading ---------------------------------------------------------------------------------


async def visitors_of(
    session: AsyncSession, visit_ids: Iterable[int]
) -> dict[int, list[VisitVisitor]]:
    ids = list(set(visit_ids))
    found: dict[int, list[VisitVisitor]] = {visit_id: [] for visit_id in ids}
    if not ids:
        return found
    rows = await session.scalars(
        select(VisitVisitor).where(VisitVisitor.visit_id.in_(ids)).order_by(VisitVisitor.id)
    )
    for visitor in rows:
        found[visitor.visit_id].append(visitor)
    return found


async def host_visit(
    session: AsyncSession, *, host: Account, visit_id: int, lock: bool = False
) -> Visit:
    return await _one_visit(
        session,
        Visit.id == visit_id,
        Visit.host_account_id == host.id,
        lock=lock,
        unknown="No such visit among yours.",
    )


async def site_visit(
    session: AsyncSession, *, site: Site, visit_id: int, lock: bool = False
) -> Visit:
    return await _one_visit(
        session,
        Visit.id == visit_id,
        Visit.site_id == site.id,
        lock=lock,
        unknown="No such visit on this site.",
    )


async def _one_visit(
    session: AsyncSession, *conditions: ColumnElement[bool], lock: bool, unknown: str
) -> Visit:
    query = select(Visit).where(*conditions)
    if lock:
        query = query.with_for_update()
    visit = await session.scalar(query)
    if visit is None:
        raise ProblemError("visit-unknown", unknown)
    return visit


def summary(visit: Visit, visitors: Sequence[VisitVisitor]) -> sv.VisitSummary:
    return sv.VisitSummary(
        id=visit.id,
        state=cast(sv.VisitState, visit.state),
        first_day=visit.first_day,
        last_day=visit.last_day,
        arrival_from=visit.arrival_from,
        arrival_until=visit.arrival_until,
        reason=visit.reason,
        place=visit.place,
        walk_in=visit.walk_in,
        visitor_names=[visitor_name(v) for v in visitors if v.anonymised_at is None],
        created_at=as_utc(visit.created_at),
    )


def _visitor_out(visitor: VisitVisitor) -> sv.VisitorOut:
    def aware(value: dt.datetime | None) -> dt.datetime | None:
        return as_utc(value) if value is not None else None

    return sv.VisitorOut(
        id=visitor.id,
        first_name=visitor.first_name,
        last_name=visitor.last_name,
        company=visitor.company,
        email=visitor.email,
        phone=visitor.phone,
        invitation_sent_at=aware(visitor.invitation_sent_at),
        rules_accepted_at=aware(visitor.rules_accepted_at),
        checked_in_at=aware(visitor.checked_in_at),
        checked_out_at=aware(visitor.checked_out_at),
        anonymised=visitor.anonymised_at is not None,
    )


async def detail(session: AsyncSession, *, visit: Visit) -> sv.VisitDetail:
    visitors = (await visitors_of(session, [visit.id]))[visit.id]
    host = await session.get(Account, visit.host_account_id)
    events = (
        await session.scalars(
            select(VisitEvent).where(VisitEvent.visit_id == visit.id).order_by(VisitEvent.id)
        )
    ).all()
    account_ids = {e.by_account_id for e in events if e.by_account_id is not None}
    device_ids = {e.by_device_id for e in events if e.by_device_id is not None}
    names: dict[int, str] = {}
    if account_ids:
        found = await session.execute(
            select(Account.id, Account.name).where(Account.id.in_(account_ids))
        )
        names = {account_id: name for account_id, name in found}
    devices: dict[int, str] = {}
    if device_ids:
        found = await session.execute(
            select(Device.id, Device.name).where(Device.id.in_(device_ids))
        )
        devices = {device_id: name for device_id, name in found}
    by_id = {v.id: v for v in visitors}
    history = [
        sv.VisitEventOut(
            kind=event.kind,
            at=as_utc(event.at),
            by_name=names.get(event.by_account_id) if event.by_account_id else None,
            by_device=devices.get(event.by_device_id) if event.by_device_id else None,
            visitor_name=(
                visitor_name(by_id[event.visitor_id])
                if event.visitor_id in by_id and by_id[event.visitor_id].anonymised_at is None
                else None
            ),
            detail=event.detail,
        )
        for event in events
    ]
    base = summary(visit, visitors)
    return sv.VisitDetail(
        **base.model_dump(),
        host_name=host.name if host is not None else "",
        rejection_reason=visit.rejection_reason,
        editable=visit.state in EDITABLE_STATES,
        cancellable=visit.state in TRANSITIONS["cancel"],
        visitors=[_visitor_out(v) for v in visitors],
        history=history,
    )


async def list_visits(
    session: AsyncSession, *, host: Account, site: Site, now: dt.datetime
) -> sv.VisitList:
    """The host's visits: upcoming (last day today or later) soonest first, then past ones,
    latest first; at most 200."""
    visits = (
        await session.scalars(
            select(Visit)
            .where(Visit.host_account_id == host.id)
            .order_by(Visit.first_day.desc(), Visit.id.desc())
            .limit(200)
        )
    ).all()
    today = local_now(site, now).date()
    upcoming = sorted(
        (v for v in visits if v.last_day >= today),
        key=lambda v: (v.first_day, v.arrival_from, v.id),
    )
    past = [v for v in visits if v.last_day < today]
    visitors = await visitors_of(session, [v.id for v in visits])
    return sv.VisitList(items=[summary(v, visitors[v.id]) for v in [*upcoming, *past]])


# --- writing ---------------------------------------------------------------------------------


def add_event(
    session: AsyncSession,
    *,
    visit: Visit,
    kind: str,
    actor: Actor,
    now: dt.datetime,
    visitor: VisitVisitor | None = None,
    detail: str = "",
) -> None:
    session.add(
        VisitEvent(
            visit_id=visit.id,
            visitor_id=visitor.id if visitor is not None else None,
            kind=kind,
            at=now,
            by_account_id=actor.account.id if actor.account is not None else None,
            by_device_id=actor.device.id if actor.device is not None else None,
            detail=detail[:200],
        )
    )


def _move(visit: Visit, action: str, to_state: str, now: dt.datetime) -> None:
    if visit.state not in TRANSITIONS[action]:
        raise ProblemError(
            "visit-transition-forbidden",
            f"A {visit.state.replace('_', ' ')} visit cannot be {_PAST[action]}.",
        )
    visit.state = to_state
    visit.updated_at = now


_PAST = {
    "submit": "submitted",
    "approve": "approved",
    "reject": "rejected",
    "cancel": "cancelled",
    "expire": "expired",
}


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
    _check_schedule(
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
    _check_schedule(
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

    _move(visit, "submit", "requested", now)
    add_event(session, visit=visit, kind="submitted", actor=actor, now=now)
    if not settings_of(site).visit_approval_required:
        _move(visit, "approve", "approved", now)
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
        _check_schedule(
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
    _move(visit, "cancel", "cancelled", now)
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

    _move(visit, "approve", "approved", now)
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
    _move(visit, "reject", "rejected", now)
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


async def expire_visits(session: AsyncSession, *, site: Site, now: dt.datetime) -> int:
    """Visits whose last arrival window is over with nobody checked in become `expired`.
    Run on reception listings and by `kiosk-server purge`; returns how many."""
    today = local_now(site, now).date()
    candidates = (
        await session.scalars(
            select(Visit).where(
                Visit.site_id == site.id,
                Visit.state.in_(TRANSITIONS["expire"]),
                Visit.last_day <= today,
            )
        )
    ).all()
    expired = 0
    for visit in candidates:
        if window_end(site, visit) < now:
            _move(visit, "expire", "expired", now)
            add_event(session, visit=visit, kind="expired", actor=Actor(None), now=now)
            expired += 1
    if expired:
        await session.flush()
    return expired


def refresh_state(
    site: Site, visit: Visit, visitors: Sequence[VisitVisitor], now: dt.datetime
) -> None:
    """After a check-in or out: `checked_in` while any visitor is on site, else `checked_out`
    once someone came."""
    if any(is_on_site(site, v, now) for v in visitors):
        visit.state = "checked_in"
    elif any(v.checked_in_at is not None for v in visitors):
        visit.state = "checked_out"
    visit.updated_at = now
