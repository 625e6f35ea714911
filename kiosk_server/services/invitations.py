"""Invitations: on approval, each visitor gets a signed token (as a QR) and a short code, sent
through the outbox by email or SMS; a cancelled visit tells them. Presenting them at the
visitor desk is `services.visitor_desk`'s.
"""

from __future__ import annotations

import base64
import datetime as dt
import io

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.i18n import texts
from kiosk_server.models import Account, Site, Visit, VisitVisitor
from kiosk_server.notify.outbox import enqueue_message
from kiosk_server.services import visits as visit_rules
from kiosk_server.services import watchlist
from kiosk_server.services.visits import Actor
from kiosk_server.tokens.invitation import (
    make_invitation_token,
    new_invitation_nonce,
    new_short_code,
    short_code_hash,
)

QR_FILENAME = "invitation.png"


def token_for(site: Site, visitor: VisitVisitor, visit: Visit) -> str:
    """The visitor's invitation token (needs an issued nonce)."""
    if visitor.invitation_nonce is None:
        raise ValueError("no invitation issued for this visitor")
    return make_invitation_token(
        site_id=site.id,
        visit_id=visit.id,
        visitor_id=visitor.id,
        nonce=visitor.invitation_nonce,
        secret=site.connect_secret,
    )


async def issue_code(session: AsyncSession, *, site: Site, visitor: VisitVisitor) -> str:
    """A fresh short code for the visitor (the old one stops working); returns it in clear
    for the message, stores only its HMAC. Codes are unique per site."""
    while True:
        code = new_short_code()
        hashed = short_code_hash(code, secret=site.connect_secret)
        taken = await session.scalar(
            select(VisitVisitor.id).where(VisitVisitor.code_hash == hashed)
        )
        if taken is None:
            visitor.code_hash = hashed
            return code


def qr_png_base64(token: str) -> str:
    """The token as a QR image (PNG), base64 for an outbox attachment."""
    import segno  # with its PNG writer, a tenth of the service's start-up: only for invitations

    buffer = io.BytesIO()
    segno.make(token, error="m").save(buffer, kind="png", scale=8, border=4)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _days(site: Site, visit: Visit) -> str:
    locale = site.locale
    first = format_date(visit.first_day, "long", locale=locale)
    if visit.first_day == visit.last_day:
        return first
    last = format_date(visit.last_day, "long", locale=locale)
    return texts(site.locale).gettext("from %(first)s to %(last)s") % {"first": first, "last": last}


def _hhmm(value: dt.time) -> str:
    return value.strftime("%H:%M")


def _invitation_email(
    site: Site, visit: Visit, visitor: VisitVisitor, host: Account, code: str
) -> tuple[str, str]:
    days, start, end = _days(site, visit), _hhmm(visit.arrival_from), _hhmm(visit.arrival_until)
    tr = texts(site.locale)
    lines = [
        tr.gettext("Hello %(name)s,") % {"name": visitor.first_name},
        "",
        tr.gettext(
            "%(host)s expects you at %(site)s, %(days)s, arriving between %(start)s and %(end)s."
        )
        % {"host": host.name, "site": site.name, "days": days, "start": start, "end": end},
    ]
    if visit.place:
        lines.append(tr.gettext("Place: %(place)s") % {"place": visit.place})
    lines += [
        "",
        tr.gettext(
            "When you arrive, show the attached QR code at the welcome kiosk, or type the code "
            "%(code)s and your last name."
        )
        % {"code": code},
        "",
        tr.gettext("See you soon!"),
    ]
    return tr.gettext("Your invitation to %(site)s") % {"site": site.name}, "\n".join(lines)


def _invitation_sms(site: Site, visit: Visit, host: Account, code: str) -> str:
    days, start, end = _days(site, visit), _hhmm(visit.arrival_from), _hhmm(visit.arrival_until)
    return texts(site.locale).gettext(
        "%(site)s: %(host)s expects you %(days)s, arriving %(start)s-%(end)s. At the welcome "
        "kiosk, type the code %(code)s and your last name."
    ) % {
        "site": site.name,
        "host": host.name,
        "days": days,
        "start": start,
        "end": end,
        "code": code,
    }


async def send_invitations(
    session: AsyncSession, *, site: Site, visit: Visit, actor: Actor, now: dt.datetime
) -> None:
    """On approval: a code for each visitor (and a token nonce when none was issued yet), sent
    by email with the QR as a PNG, else by SMS with the code; visitors with neither contact
    (walk-ins) check in with the token the kiosk holds, or at reception."""
    host = await session.get(Account, visit.host_account_id)
    visitors = (await visit_rules.visitors_of(session, [visit.id]))[visit.id]
    for visitor in visitors:
        if visitor.invitation_nonce is None:
            visitor.invitation_nonce = new_invitation_nonce()
        code = await issue_code(session, site=site, visitor=visitor)
        if host is None or (visitor.email is None and visitor.phone is None):
            continue
        if visitor.email is not None:
            subject, body = _invitation_email(site, visit, visitor, host, code)
            await enqueue_message(
                session,
                site=site,
                account=None,
                channel="email",
                recipient=visitor.email,
                subject=subject,
                body=body,
                now=now,
                attachments={QR_FILENAME: qr_png_base64(token_for(site, visitor, visit))},
            )
        else:
            assert visitor.phone is not None  # noqa: S101 - checked above
            await enqueue_message(
                session,
                site=site,
                account=None,
                channel="sms",
                recipient=visitor.phone,
                subject="",
                body=_invitation_sms(site, visit, host, code),
                now=now,
            )
        visitor.invitation_sent_at = now
        visit_rules.add_event(
            session,
            visit=visit,
            kind="invitation_sent",
            actor=actor,
            now=now,
            visitor=visitor,
            detail="email" if visitor.email is not None else "sms",
        )
    await watchlist.screen_invitations(session, site=site, visit=visit, visitors=visitors, now=now)
    await session.flush()


async def send_cancellations(
    session: AsyncSession, *, site: Site, visit: Visit, host: Account, now: dt.datetime
) -> None:
    """Tell each visitor who was sent an invitation that the visit is cancelled."""
    visitors = (await visit_rules.visitors_of(session, [visit.id]))[visit.id]
    days = _days(site, visit)
    for visitor in visitors:
        if visitor.invitation_sent_at is None:
            continue
        tr = texts(site.locale)
        subject = tr.gettext("Visit cancelled at %(site)s") % {"site": site.name}
        body = (
            tr.gettext("Hello %(name)s,") % {"name": visitor.first_name}
            + "\n\n"
            + tr.gettext(
                "Your visit to %(host)s (%(site)s), %(days)s, is cancelled. Your invitation no "
                "longer works."
            )
            % {"host": host.name, "site": site.name, "days": days}
        )
        if visitor.email is not None:
            await enqueue_message(
                session,
                site=site,
                account=None,
                channel="email",
                recipient=visitor.email,
                subject=subject,
                body=body,
                now=now,
            )
        elif visitor.phone is not None:
            await enqueue_message(
                session,
                site=site,
                account=None,
                channel="sms",
                recipient=visitor.phone,
                subject="",
                body=body.split("\n\n", 1)[-1],
                now=now,
            )
