"""The visitor desk: a visitor with no account presents the invitation QR, or the short code
and their last name, to check in and out (at a kiosk, or through reception).

An invitation works only on its site, only for its visit's days within the arrival window
(± the site's margin) for checking in, and until the first closing time after check-in for
checking out; the visit's state is checked on every use, so cancelling voids it at once. Wrong
codes and unreadable tokens count against the terminal like unknown identifiers do (terminal
throttle, `services.auth`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server import schemas_visits as sv
from kiosk_server.db import as_utc
from kiosk_server.i18n import texts
from kiosk_server.models import (
    Account,
    Device,
    DeviceFailure,
    Evacuation,
    EvacuationPerson,
    Site,
    Visit,
    VisitorPhoto,
    VisitVisitor,
)
from kiosk_server.problems import FieldError, ProblemError
from kiosk_server.schemas import SiteRef
from kiosk_server.services import audit, auth, notifications, visitor_photos, watchlist
from kiosk_server.services import visits as visit_rules
from kiosk_server.services.invitations import token_for
from kiosk_server.services.visits import Actor
from kiosk_server.site_settings import SiteSettings
from kiosk_server.tokens import TokenError
from kiosk_server.tokens.invitation import (
    new_invitation_nonce,
    normalise_short_code,
    parse_invitation_token,
    short_code_hash,
    verify_invitation_token,
)

Action = Literal["check_in", "check_out"]


@dataclass(frozen=True)
class Presented:
    """The invitation a visitor presented, found and genuine (not yet checked for now)."""

    site: Site
    visit: Visit
    visitor: VisitVisitor
    host: Account


def _throttle_settings(device: Device) -> SiteSettings:
    site = min(device.sites, key=lambda served: served.id, default=None)
    return auth.site_settings(site) if site is not None else SiteSettings()


async def _unknown(
    session: AsyncSession, device: Device, now: dt.datetime, detail: str
) -> ProblemError:
    """Count a failed presentation against the terminal, committed before the error is raised
    (the request's transaction is rolled back on an error)."""
    session.add(DeviceFailure(device_id=device.id, kind="invitation", at=now))
    await session.commit()
    return ProblemError("invitation-unknown", detail)


async def _load(session: AsyncSession, visitor_id: int) -> tuple[Visit, VisitVisitor] | None:
    row = (
        await session.execute(
            select(Visit, VisitVisitor)
            .join(VisitVisitor, VisitVisitor.visit_id == Visit.id)
            .where(VisitVisitor.id == visitor_id)
            .with_for_update()
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def present(
    session: AsyncSession,
    *,
    device: Device,
    token: str | None,
    code: str | None,
    last_name: str | None,
    now: dt.datetime,
) -> Presented:
    """The invitation behind a scanned token or a typed code and last name, on a site this
    terminal serves. Raises `terminal-throttled`, `invitation-unknown` (counted),
    `invitation-other-site`, `validation-failed` (neither a token nor a code and a name)."""
    await auth.check_throttle(session, device=device, settings=_throttle_settings(device), now=now)
    not_found = "This invitation is not known. Check the code and your last name, or ask reception."
    if token:
        try:
            claims = parse_invitation_token(token.strip())
        except TokenError:
            raise await _unknown(session, device, now, "This is not an invitation QR.") from None
        site = next((s for s in device.sites if s.id == claims.site_id), None)
        if site is None:
            # Genuine, but for a site this terminal does not serve? A forgery is only unknown.
            issuer = await session.get(Site, claims.site_id)
            try:
                if issuer is None:
                    raise TokenError("token-tampered")
                verify_invitation_token(
                    claims, secret=issuer.connect_secret, current_nonce=claims.nonce
                )
            except TokenError:
                raise await _unknown(session, device, now, not_found) from None
            raise ProblemError("invitation-other-site", "This invitation is for another site.")
        loaded = await _load(session, claims.visitor_id)
        if loaded is None or loaded[0].site_id != site.id or loaded[0].id != claims.visit_id:
            raise await _unknown(session, device, now, not_found)
        visit, visitor = loaded
        try:
            verify_invitation_token(
                claims, secret=site.connect_secret, current_nonce=visitor.invitation_nonce
            )
        except TokenError:
            raise await _unknown(session, device, now, not_found) from None
    elif code and last_name:
        normalised = normalise_short_code(code)
        if normalised is None:
            raise await _unknown(session, device, now, not_found)
        hashes = {short_code_hash(normalised, secret=s.connect_secret): s for s in device.sites}
        visitor_id = await session.scalar(
            select(VisitVisitor.id).where(VisitVisitor.code_hash.in_(list(hashes)))
        )
        loaded = await _load(session, visitor_id) if visitor_id is not None else None
        if loaded is None or visit_rules.fold_text(loaded[1].last_name) != visit_rules.fold_text(
            last_name
        ):
            raise await _unknown(session, device, now, not_found)
        visit, visitor = loaded
        site = next(s for s in device.sites if s.id == visit.site_id)
    else:
        raise ProblemError(
            "validation-failed",
            "Send the scanned token, or the code and the last name.",
            errors=[FieldError(field="token", message="send a token, or a code and a last name")],
        )
    host = await session.get(Account, visit.host_account_id)
    if host is None:  # pragma: no cover - the foreign key cascades
        raise await _unknown(session, device, now, not_found)
    return Presented(site=site, visit=visit, visitor=visitor, host=host)


def _local_day(site: Site, when: dt.datetime) -> dt.date:
    return as_utc(when).astimezone(visit_rules.zone(site)).date()


async def _expire_now(session: AsyncSession, found: Presented, now: dt.datetime) -> ProblemError:
    await visit_rules.expire_visits(session, site=found.site, now=now)
    await session.commit()
    return ProblemError("invitation-expired", "This invitation has expired.")


async def check_state(
    session: AsyncSession,
    found: Presented,
    action: Action,
    now: dt.datetime,
    *,
    by_reception: bool = False,
) -> None:
    """Refuses, with a specific code, an invitation that cannot do `action` now. Reception may
    check a visitor in at any time of one of the visit's days (late arrivals)."""
    site, visit, visitor = found.site, found.visit, found.visitor
    if visit.state == "cancelled" or visit.state == "rejected":
        raise ProblemError("invitation-cancelled", "This visit was cancelled.")
    if visit.state == "expired":
        raise ProblemError("invitation-expired", "This invitation has expired.")
    if visit.state in ("draft", "requested"):
        raise ProblemError(
            "invitation-not-approved", "This visit is not approved yet. Reception will help you."
        )
    today = visit_rules.local_now(site, now).date()
    if action == "check_out":
        if visitor.checked_in_at is None:
            raise ProblemError("visitor-not-checked-in", "This visitor has not checked in.")
        if visitor.checked_out_at is not None:
            raise ProblemError("invitation-used", "This visitor has already checked out.")
        if not visit_rules.is_on_site(site, visitor, now):
            raise ProblemError(
                "invitation-not-today", "Checking out closed with the site. Ask reception."
            )
        return
    if visit_rules.is_on_site(site, visitor, now) or (
        visitor.checked_in_at is not None and _local_day(site, visitor.checked_in_at) == today
    ):
        raise ProblemError("invitation-used", "This invitation was already used today.")
    margin = dt.timedelta(minutes=visit_rules.settings_of(site).invitation_margin_minutes)
    if by_reception:
        if today > visit.last_day and visitor.checked_in_at is None:
            raise await _expire_now(session, found, now)
        if not visit.first_day <= today <= visit.last_day:
            raise ProblemError("invitation-not-today", "This visit is not today.")
        return
    if now > visit_rules.window_end(site, visit):
        if visit.state == "approved":
            raise await _expire_now(session, found, now)
        raise ProblemError("invitation-expired", "This invitation has expired.")
    opens = visit_rules.at_local(site, today, visit.arrival_from) - margin
    closes = visit_rules.at_local(site, today, visit.arrival_until) + margin
    if not visit.first_day <= today <= visit.last_day or not opens <= now <= closes:
        raise ProblemError(
            "invitation-not-today",
            "This invitation is not valid at this time. Check the day and time of your visit.",
        )


def _rules(site: Site, language: str) -> tuple[str, str]:
    rules = visit_rules.settings_of(site).visit_rules
    wanted = language.lower()[:2]
    for candidate in (wanted, site.locale.lower()[:2], "en", "fr"):
        if candidate in rules:
            return candidate, rules[candidate]
    first = next(iter(rules.items()), ("", ""))
    return first


def _next_action(found: Presented, now: dt.datetime) -> Action:
    return "check_out" if visit_rules.is_on_site(found.site, found.visitor, now) else "check_in"


async def lookup(
    session: AsyncSession, *, device: Device, body: sv.DeskCredentials, now: dt.datetime
) -> sv.DeskVisit:
    """What the visitor sees before confirming: the visit, the rules, and whether this is
    their arrival or their departure. Refuses as checking in or out would."""
    found = await present(
        session, device=device, token=body.token, code=body.code, last_name=body.last_name, now=now
    )
    action = _next_action(found, now)
    await check_state(session, found, action, now)
    language, rules = _rules(found.site, body.language)
    visit, visitor = found.visit, found.visitor
    return sv.DeskVisit(
        site=SiteRef(code=found.site.code, name=found.site.name),
        visit_id=visit.id,
        visitor_id=visitor.id,
        first_name=visitor.first_name,
        last_name=visitor.last_name,
        company=visitor.company,
        host_name=found.host.name,
        first_day=visit.first_day,
        last_day=visit.last_day,
        arrival_from=visit.arrival_from,
        arrival_until=visit.arrival_until,
        place=visit.place,
        action=action,
        rules=rules,
        rules_language=language,
        photo=visit_rules.settings_of(found.site).visitor_photo,
    )


def _arrival_notice(site: Site, visitor: VisitVisitor) -> tuple[str, str]:
    who = visit_rules.visitor_name(visitor)
    company = f" ({visitor.company})" if visitor.company else ""
    tr = texts(site.locale)
    return (
        tr.gettext("Your visitor has arrived"),
        tr.gettext("%(who)s has just arrived at %(site)s's reception.")
        % {"who": f"{who}{company}", "site": site.name},
    )


async def record_check_in(
    session: AsyncSession,
    found: Presented,
    *,
    actor: Actor,
    now: dt.datetime,
    rules_language: str | None,
) -> sv.VisitorBadge:
    """Check a visitor in (state already checked): history, audit, the host's notification,
    and the badge data."""
    site, visit, visitor = found.site, found.visit, found.visitor
    if visitor.invitation_nonce is None:
        visitor.invitation_nonce = new_invitation_nonce()
    if rules_language is not None:
        visitor.rules_accepted_at = now
        visitor.rules_language = rules_language[:8]
    visitor.checked_in_at = now
    visitor.checked_out_at = None
    visitors = (await visit_rules.visitors_of(session, [visit.id]))[visit.id]
    visit_rules.refresh_state(site, visit, visitors, now)
    visit_rules.add_event(
        session, visit=visit, kind="checked_in", actor=actor, now=now, visitor=visitor
    )
    await audit.record(
        session,
        site_id=site.id,
        action="visitor.checked_in",
        subject=f"visitor:{visitor.id}",
        now=now,
        actor_account_id=actor.account.id if actor.account else None,
        actor_device_id=actor.device.id if actor.device else None,
        detail={
            "visit_id": visit.id,
            "visitor_name": visit_rules.visitor_name(visitor),
            "company": visitor.company,
        },
    )
    await _join_evacuation(session, site=site, visitor=visitor)
    title, body = _arrival_notice(site, visitor)
    await notifications.notify(
        session,
        account=found.host,
        kind="visitor_arrived",
        data={
            **visit_rules.visitor_facts(visitor),
            "visit_id": visit.id,
            "visitor_id": visitor.id,
            "photo": int(await session.get(VisitorPhoto, visitor.id) is not None),
        },
        title=title,
        body=body,
        now=now,
        email=True,
    )
    await session.flush()
    return badge(found, now)


async def _join_evacuation(session: AsyncSession, *, site: Site, visitor: VisitVisitor) -> None:
    """Someone checked in while an evacuation is open (a late arrival let in at the door, a
    drill) is on its muster, missing until marked safe: nobody on site is left off it."""
    evacuation_id = await session.scalar(
        select(Evacuation.id).where(Evacuation.site_id == site.id, Evacuation.closed_at.is_(None))
    )
    if evacuation_id is None:
        return
    if await session.get(EvacuationPerson, (evacuation_id, visitor.id)) is None:
        session.add(EvacuationPerson(evacuation_id=evacuation_id, visitor_id=visitor.id))


def badge(found: Presented, now: dt.datetime) -> sv.VisitorBadge:
    site, visit, visitor = found.site, found.visit, found.visitor
    checked_in = as_utc(visitor.checked_in_at) if visitor.checked_in_at is not None else now
    return sv.VisitorBadge(
        site=SiteRef(code=site.code, name=site.name),
        visit_id=visit.id,
        visitor_id=visitor.id,
        first_name=visitor.first_name,
        last_name=visitor.last_name,
        company=visitor.company,
        host_name=found.host.name,
        day=_local_day(site, checked_in),
        place=visit.place,
        checked_in_at=checked_in,
        checkout_token=token_for(site, visitor, visit),
    )


async def record_check_out(
    session: AsyncSession, found: Presented, *, actor: Actor, now: dt.datetime
) -> sv.CheckedOut:
    site, visit, visitor = found.site, found.visit, found.visitor
    visitor.checked_out_at = now
    visitors = (await visit_rules.visitors_of(session, [visit.id]))[visit.id]
    visit_rules.refresh_state(site, visit, visitors, now)
    visit_rules.add_event(
        session, visit=visit, kind="checked_out", actor=actor, now=now, visitor=visitor
    )
    await audit.record(
        session,
        site_id=site.id,
        action="visitor.checked_out",
        subject=f"visitor:{visitor.id}",
        now=now,
        actor_account_id=actor.account.id if actor.account else None,
        actor_device_id=actor.device.id if actor.device else None,
        detail={"visit_id": visit.id, "visitor_name": visit_rules.visitor_name(visitor)},
    )
    await session.flush()
    return sv.CheckedOut(
        visitor_id=visitor.id,
        first_name=visitor.first_name,
        last_name=visitor.last_name,
        checked_out_at=now,
    )


async def desk_check_in(
    session: AsyncSession, *, device: Device, body: sv.DeskCheckIn, now: dt.datetime
) -> sv.VisitorBadge:
    """The visitor checks in alone: the site's rules must be accepted (recorded with the time)."""
    found = await present(
        session, device=device, token=body.token, code=body.code, last_name=body.last_name, now=now
    )
    await check_state(session, found, "check_in", now)
    if not body.rules_accepted:
        raise ProblemError("rules-not-accepted", "Accept the site's rules to check in.")
    jpeg = visitor_photos.accepted(found.site, body.photo)
    if jpeg is not None:
        # Kept before the watchlist's word: a held visitor's photo is what reception looks at.
        await visitor_photos.keep(session, visitor=found.visitor, jpeg=jpeg, now=now)
    await watchlist.hold_if_listed(
        session, site=found.site, visit=found.visit, visitor=found.visitor, now=now
    )
    language, _ = _rules(found.site, body.language)
    return await record_check_in(
        session, found, actor=Actor(device), now=now, rules_language=language
    )


async def desk_check_out(
    session: AsyncSession, *, device: Device, body: sv.DeskCredentials, now: dt.datetime
) -> sv.CheckedOut:
    found = await present(
        session, device=device, token=body.token, code=body.code, last_name=body.last_name, now=now
    )
    await check_state(session, found, "check_out", now)
    return await record_check_out(session, found, actor=Actor(device), now=now)
