"""Visits: their rules (states and transitions, times in the site's zone, what a visitor and a
schedule must hold), reading them, and their expiry. What a host and reception do to them is in
`services.visit_requests`; invitations and visitor check-in in `services.invitations`; the
reception desk's lists in `services.reception`.

States: draft → requested → approved → checked_in → checked_out; or rejected, cancelled,
expired. Every change of state goes through `move_state`, which refuses what `TRANSITIONS`
does not allow with `visit-transition-forbidden`. Times of day are in the site's time zone.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server import schemas_visits as sv
from kiosk_server.db import as_utc
from kiosk_server.fields import is_email, is_phone
from kiosk_server.models import Account, Device, Site, Visit, VisitEvent, VisitVisitor
from kiosk_server.problems import FieldError, ProblemError
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


def check_schedule(
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


def move_state(visit: Visit, action: str, to_state: str, now: dt.datetime) -> None:
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
            move_state(visit, "expire", "expired", now)
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
