"""The reception desk: today's visitors in three lists, the evacuation roll call (also as CSV),
check-in and out on a visitor's behalf, and walk-ins (a visitor asking for their host by full
name, which must match exactly: staff are never listed)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server import schemas_visits as sv
from kiosk_server import schemas_watchlist as sw
from kiosk_server.db import as_utc
from kiosk_server.i18n import texts
from kiosk_server.models import (
    Account,
    Device,
    DeviceFailure,
    Site,
    Visit,
    VisitorPhoto,
    VisitVisitor,
)
from kiosk_server.problems import ProblemError
from kiosk_server.schemas import SiteRef
from kiosk_server.services import (
    auth,
    invitations,
    notifications,
    visitor_desk,
    visitor_photos,
    watchlist,
)
from kiosk_server.services import visits as visit_rules
from kiosk_server.services.auth import SignedInPerson
from kiosk_server.services.visitor_desk import Presented
from kiosk_server.services.visits import Actor
from kiosk_server.tokens.invitation import new_invitation_nonce

LISTED_STATES = ("requested", "approved", "checked_in", "checked_out")
"""Visit states the reception lists show (drafts, cancelled, rejected and expired ones are
not expected)."""
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def require_reception(person: SignedInPerson) -> None:
    if "reception" not in person.account.roles:
        raise ProblemError("role-forbidden", "Only reception staff use the reception desk.")


class _SiteDay:
    """The site's clock rules for many visitors at once: the time zone and the policies are
    read once, not for each row (`visit_rules.settings_of` validates the site's settings at
    every call). Gives the same answers as `visit_rules.is_on_site` and `is_overdue`."""

    def __init__(self, site: Site, now: dt.datetime) -> None:
        self.zone = visit_rules.zone(site)
        self.now = now
        self.closing = visit_rules.settings_of(site).site_closing_time

    def arrival(self, checked_in_at: dt.datetime) -> tuple[dt.date, bool]:
        """The site's day of a check-in, and whether the visitor is still counted on site
        (not checked out is the caller's part): before the first closing time after it."""
        checked_in = as_utc(checked_in_at)
        day = checked_in.astimezone(self.zone).date()
        closing = dt.datetime.combine(day, self.closing, tzinfo=self.zone)
        if closing <= checked_in:
            closing += dt.timedelta(days=1)
        return day, self.now < closing

    def overdue(self, day: dt.date, arrival_until: dt.time) -> bool:
        """Past the end of the arrival window of `day` (for a visitor on site)."""
        return self.now > dt.datetime.combine(day, arrival_until, tzinfo=self.zone)


async def _expire_if_due(session: AsyncSession, *, site: Site, now: dt.datetime) -> None:
    """Run `visit_rules.expire_visits` only when a visit is due to expire. It loads every
    expirable visit up to today as an object to check each (a whole day's worth on a busy site,
    at every listing); the distinct (last day, window end) pairs, a handful, say the same."""
    today = visit_rules.local_now(site, now).date()
    windows = (
        await session.execute(
            select(Visit.last_day, Visit.arrival_until)
            .where(
                Visit.site_id == site.id,
                Visit.state.in_(visit_rules.TRANSITIONS["expire"]),
                Visit.last_day <= today,
            )
            .distinct()
        )
    ).all()
    margin = dt.timedelta(minutes=visit_rules.settings_of(site).invitation_margin_minutes)
    # As `visit_rules.window_end`, which `expire_visits` applies to each visit.
    if any(visit_rules.at_local(site, day, until) + margin < now for day, until in windows):
        await visit_rules.expire_visits(session, site=site, now=now)


_DAY_COLUMNS = (
    VisitVisitor.id.label("visitor_id"),
    Visit.id.label("visit_id"),
    VisitVisitor.first_name,
    VisitVisitor.last_name,
    VisitVisitor.company,
    Account.name.label("host_name"),
    Visit.first_day,
    Visit.last_day,
    Visit.arrival_from,
    Visit.arrival_until,
    Visit.place,
    Visit.state,
    Visit.walk_in,
    VisitVisitor.checked_in_at,
    VisitVisitor.checked_out_at,
    VisitVisitor.held_at,
    VisitVisitor.refused_at,
    exists()
    .where(VisitorPhoto.visitor_id == VisitVisitor.id)
    .correlate(VisitVisitor)
    .label("has_photo"),
)


async def day_lists(
    session: AsyncSession, *, site: Site, day: dt.date | None, query: str, now: dt.datetime
) -> sv.ReceptionDay:
    """One row per visitor of the visits that include `day` (today by default), split into
    expected, on site and left; `query` keeps the rows whose visitor, company or host contains
    each of its words (case and accents ignored). Expires visits that are over first.

    Two statements (three when visits are due to expire); the rows are read as plain columns,
    not ORM objects, and validated into the answer in one call: a day of 2,000 visitors costs
    tens of milliseconds, not hundreds."""
    await _expire_if_due(session, site=site, now=now)
    day = day or visit_rules.local_now(site, now).date()
    result = await session.execute(
        select(*_DAY_COLUMNS)
        .select_from(Visit)
        .join(VisitVisitor, VisitVisitor.visit_id == Visit.id)
        .join(Account, Account.id == Visit.host_account_id)
        .where(
            Visit.site_id == site.id,
            Visit.first_day <= day,
            Visit.last_day >= day,
            Visit.state.in_(LISTED_STATES),
            VisitVisitor.anonymised_at.is_(None),
        )
        .order_by(Visit.arrival_from, VisitVisitor.last_name, VisitVisitor.id)
    )
    words = visit_rules.fold_text(query).split()
    clock = _SiteDay(site, now)
    lists: dict[str, list[dict[str, Any]]] = {"expected": [], "on_site": [], "left": []}
    keys = tuple(result.keys())
    for row in result:
        item = dict(zip(keys, row, strict=True))
        if words:
            haystack = visit_rules.fold_text(
                f"{item['first_name']} {item['last_name']} {item['company']} {item['host_name']}"
            )
            if not all(word in haystack for word in words):
                continue
        checked_in_at: dt.datetime | None = item["checked_in_at"]
        checked_out_at: dt.datetime | None = item["checked_out_at"]
        on_site = overdue = False
        if checked_in_at is None:
            arrived_on = None
        else:
            arrived_on, before_closing = clock.arrival(checked_in_at)
            on_site = before_closing and checked_out_at is None
            overdue = on_site and clock.overdue(arrived_on, item["arrival_until"])
            item["checked_in_at"] = as_utc(checked_in_at)
            if checked_out_at is not None:
                item["checked_out_at"] = as_utc(checked_out_at)
        item["overdue"] = overdue
        item["held"] = item.pop("held_at") is not None
        item["refused"] = item.pop("refused_at") is not None
        if arrived_on != day:
            lists["expected"].append(item)
        elif on_site:
            lists["on_site"].append(item)
        else:
            lists["left"].append(item)
    return sv.ReceptionDay.model_validate({"day": day, "generated_at": now, **lists})


async def roll_call(session: AsyncSession, *, site: Site, now: dt.datetime) -> sv.RollCall:
    """Everyone on site now, earliest arrival first."""
    since = now - dt.timedelta(days=2)  # Nobody stays past a closing time: bounds the scan.
    result = await session.execute(
        select(
            VisitVisitor.id.label("visitor_id"),
            Visit.id.label("visit_id"),
            VisitVisitor.first_name,
            VisitVisitor.last_name,
            VisitVisitor.company,
            Account.name.label("host_name"),
            Visit.place,
            VisitVisitor.checked_in_at,
            Visit.arrival_until,
        )
        .select_from(Visit)
        .join(VisitVisitor, VisitVisitor.visit_id == Visit.id)
        .join(Account, Account.id == Visit.host_account_id)
        .where(
            Visit.site_id == site.id,
            VisitVisitor.checked_in_at.is_not(None),
            VisitVisitor.checked_in_at > since,
            VisitVisitor.checked_out_at.is_(None),
        )
        .order_by(VisitVisitor.checked_in_at, VisitVisitor.id)
    )
    clock = _SiteDay(site, now)
    people: list[dict[str, Any]] = []
    for row in result.mappings():
        arrived_on, on_site = clock.arrival(row["checked_in_at"])
        if on_site:
            item = dict(row)
            item["checked_in_at"] = as_utc(row["checked_in_at"])
            item["overdue"] = clock.overdue(arrived_on, row["arrival_until"])
            people.append(item)
    return sv.RollCall.model_validate(
        {"site": SiteRef(code=site.code, name=site.name), "generated_at": now, "people": people}
    )


def csv_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: control characters stripped, and a leading quote
    before anything a spreadsheet would read as a formula."""
    cleaned = _CONTROL.sub("", value)
    if cleaned.startswith(_FORMULA_START):
        return "'" + cleaned
    return cleaned


def roll_call_csv(site: Site, call: sv.RollCall) -> str:
    """The roll call as CSV (times in the site's time zone)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    local = call.generated_at.astimezone(visit_rules.zone(site))
    writer.writerow([csv_cell(f"Roll call {site.name}"), local.strftime("%Y-%m-%d %H:%M")])
    writer.writerow(["last_name", "first_name", "company", "host", "checked_in_at", "overdue"])
    for person in call.people:
        arrived = person.checked_in_at.astimezone(visit_rules.zone(site))
        writer.writerow(
            [
                csv_cell(person.last_name),
                csv_cell(person.first_name),
                csv_cell(person.company),
                csv_cell(person.host_name),
                arrived.strftime("%Y-%m-%d %H:%M"),
                "yes" if person.overdue else "no",
            ]
        )
    return buffer.getvalue()


async def _presented(session: AsyncSession, *, site: Site, visitor_id: int) -> Presented:
    row = (
        await session.execute(
            select(Visit, VisitVisitor, Account)
            .join(VisitVisitor, VisitVisitor.visit_id == Visit.id)
            .join(Account, Account.id == Visit.host_account_id)
            .where(VisitVisitor.id == visitor_id, Visit.site_id == site.id)
            .with_for_update(of=[Visit, VisitVisitor])
        )
    ).first()
    if row is None:
        raise ProblemError("visitor-unknown", "No such visitor on this site.")
    return Presented(site=site, visit=row[0], visitor=row[1], host=row[2])


async def check_in(
    session: AsyncSession,
    *,
    staff: SignedInPerson,
    device: Device,
    visitor_id: int,
    now: dt.datetime,
) -> sv.VisitorBadge:
    found = await _presented(session, site=staff.site, visitor_id=visitor_id)
    await visitor_desk.check_state(session, found, "check_in", now, by_reception=True)
    await watchlist.hold_if_listed(
        session, site=staff.site, visit=found.visit, visitor=found.visitor, now=now
    )
    return await visitor_desk.record_check_in(
        session, found, actor=Actor(device, staff.account), now=now, rules_language=None
    )


async def visitor_photo(session: AsyncSession, *, staff: SignedInPerson, visitor_id: int) -> bytes:
    """A visitor of the staff member's site: their check-in still."""
    await _presented(session, site=staff.site, visitor_id=visitor_id)
    return await visitor_photos.photo_of(session, visitor_id=visitor_id)


async def hold(session: AsyncSession, *, staff: SignedInPerson, visitor_id: int) -> sw.HeldCheckIn:
    """Why a visitor's check-in is held (the watchlist entry their name matched)."""
    found = await _presented(session, site=staff.site, visitor_id=visitor_id)
    return await watchlist.held_check_in(session, site=staff.site, visitor=found.visitor)


async def release(
    session: AsyncSession,
    *,
    staff: SignedInPerson,
    device: Device,
    visitor_id: int,
    now: dt.datetime,
) -> sv.VisitorBadge:
    """Let a held visitor in and check them in, in one transaction: if the check-in is refused
    (not one of the visit's days, say), nothing is released."""
    found = await _presented(session, site=staff.site, visitor_id=visitor_id)
    await watchlist.release(
        session, site=staff.site, visitor=found.visitor, account=staff.account, now=now
    )
    await visitor_desk.check_state(session, found, "check_in", now, by_reception=True)
    return await visitor_desk.record_check_in(
        session, found, actor=Actor(device, staff.account), now=now, rules_language=None
    )


async def refuse(
    session: AsyncSession, *, staff: SignedInPerson, visitor_id: int, now: dt.datetime
) -> sw.HeldCheckIn:
    """Refuse a held visitor entry."""
    found = await _presented(session, site=staff.site, visitor_id=visitor_id)
    await watchlist.refuse(
        session, site=staff.site, visitor=found.visitor, account=staff.account, now=now
    )
    return await watchlist.held_check_in(session, site=staff.site, visitor=found.visitor)


async def check_out(
    session: AsyncSession,
    *,
    staff: SignedInPerson,
    device: Device,
    visitor_id: int,
    now: dt.datetime,
) -> sv.CheckedOut:
    found = await _presented(session, site=staff.site, visitor_id=visitor_id)
    if found.visitor.checked_in_at is None:
        raise ProblemError("visitor-not-checked-in", "This visitor has not checked in.")
    if found.visitor.checked_out_at is not None:
        raise ProblemError("invitation-used", "This visitor has already checked out.")
    # Reception may check out a visitor past closing time (to close the record).
    return await visitor_desk.record_check_out(
        session, found, actor=Actor(device, staff.account), now=now
    )


async def reprint_badge(
    session: AsyncSession, *, staff: SignedInPerson, visitor_id: int, now: dt.datetime
) -> sv.VisitorBadge:
    found = await _presented(session, site=staff.site, visitor_id=visitor_id)
    if not visit_rules.is_on_site(staff.site, found.visitor, now):
        raise ProblemError("visitor-not-checked-in", "This visitor is not on site.")
    return visitor_desk.badge(found, now)


async def _find_host(session: AsyncSession, *, site: Site, full_name: str) -> list[Account]:
    wanted = visit_rules.fold_text(full_name)
    candidates = (
        await session.scalars(
            select(Account).where(Account.site_id == site.id, Account.status != "blocked")
        )
    ).all()
    return [a for a in candidates if wanted and visit_rules.fold_text(a.name) == wanted]


MIN_HOST_QUERY = 3
"""Letters a visitor types before names are offered: fewer would list most of the site."""
MAX_HOST_MATCHES = 5


def _matches(name: str, words: list[str]) -> bool:
    """Every typed word begins a word of the name (`ma dup` finds `Marie Dupont`)."""
    parts = visit_rules.fold_text(name).replace("-", " ").split()
    return all(any(part.startswith(word) for part in parts) for word in words)


async def search_hosts(
    session: AsyncSession, *, site: Site, device: Device, query: str, now: dt.datetime
) -> sv.HostMatches:
    """Names of the site's people matching what a visitor typed at the visitor desk, for them
    to pick their host: names only, a few at a time, none before `MIN_HOST_QUERY` letters, and
    not at all on a throttled terminal or where the site turned the search off."""
    settings = auth.site_settings(site)
    if not settings.walk_in_host_search:
        raise ProblemError(
            "host-search-off", "This site does not list its people: type the full name."
        )
    await auth.check_throttle(session, device=device, settings=settings, now=now)
    words = visit_rules.fold_text(query).replace("-", " ").split()
    if sum(len(word) for word in words) < MIN_HOST_QUERY:
        return sv.HostMatches(names=[], more=False)
    names = (
        await session.scalars(
            select(Account.name).where(Account.site_id == site.id, Account.status != "blocked")
        )
    ).all()
    found = sorted({name for name in names if _matches(name, words)}, key=visit_rules.fold_text)
    return sv.HostMatches(names=found[:MAX_HOST_MATCHES], more=len(found) > MAX_HOST_MATCHES)


def _walk_in_notice(site: Site, visitor: VisitVisitor) -> tuple[str, str]:
    who = visit_rules.visitor_name(visitor)
    company = f" ({visitor.company})" if visitor.company else ""
    tr = texts(site.locale)
    return (
        tr.gettext("A visitor is asking for you"),
        tr.gettext(
            "%(who)s is asking for you at %(site)s's reception. Approve the visit in your visit "
            "requests, or call reception."
        )
        % {"who": f"{who}{company}", "site": site.name},
    )


async def walk_in(
    session: AsyncSession,
    *,
    site: Site,
    device: Device,
    staff: Account | None,
    body: sv.WalkInRequest,
    now: dt.datetime,
) -> sv.WalkInCreated:
    """A requested visit for today for a visitor without an invitation, once the host's full
    name matches exactly one person of the site. From the visitor desk (`staff` None), a name
    that matches nobody counts against the terminal, so guessing names is throttled."""
    if staff is None:
        settings = auth.site_settings(site)
        await auth.check_throttle(session, device=device, settings=settings, now=now)
    errors = visit_rules.FieldErrors()
    visitor_fields = body.model_dump(
        include={"first_name", "last_name", "company", "email", "phone"}
    )
    fields = visit_rules.check_visitor(errors, "", sv.VisitorIn(**visitor_fields), contact=False)
    errors.raise_if_any()
    host_name = body.host_full_name.strip()
    hosts = await _find_host(session, site=site, full_name=host_name)
    if not hosts:
        if staff is None:
            session.add(DeviceFailure(device_id=device.id, kind="host", at=now))
            await session.commit()
        raise ProblemError(
            "host-unknown",
            "Nobody here has exactly this name. Check the spelling, or ask reception.",
        )
    if len(hosts) > 1:
        raise ProblemError("host-ambiguous", "Several people have this name. Ask reception.")
    host = hosts[0]
    local = visit_rules.local_now(site, now)
    closing = visit_rules.settings_of(site).site_closing_time
    start = local.time().replace(second=0, microsecond=0)
    until = closing if closing > start else dt.time(23, 59)
    visit = Visit(
        site_id=site.id,
        host_account_id=host.id,
        state="requested",
        first_day=local.date(),
        last_day=local.date(),
        arrival_from=start,
        arrival_until=until,
        reason=texts(site.locale).gettext("Walk-in"),
        place="",
        walk_in=True,
        created_at=now,
        updated_at=now,
    )
    session.add(visit)
    await session.flush()
    visitor = VisitVisitor(visit_id=visit.id, invitation_nonce=new_invitation_nonce(), **fields)
    session.add(visitor)
    await session.flush()
    visit_rules.add_event(
        session,
        visit=visit,
        kind="submitted",
        actor=Actor(device, staff),
        now=now,
        visitor=visitor,
        detail="walk-in",
    )
    title, text = _walk_in_notice(site, visitor)
    await notifications.notify(
        session,
        account=host,
        kind="visit_request",
        title=title,
        body=text,
        now=now,
        email=True,
        data=visit_rules.visitor_facts(visitor),
    )
    await session.flush()
    return sv.WalkInCreated(
        visit_id=visit.id,
        visitor_id=visitor.id,
        state="requested",
        host_name=host.name,
        invitation_token=invitations.token_for(site, visitor, visit),
        wait_seconds=auth.site_settings(site).walk_in_wait_seconds,
    )
