"""A person's monthly statement: the balance at the start and end of a month of the site's
calendar, what moved in between by kind (purchases, top-ups, refunds, adjustments), and the VAT
of what was bought, net of refunds. Every figure is summed from the ledger and the tickets by
the database; opening + movements = closing, to the cent, by construction and by test."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server import schemas
from kiosk_server.i18n import texts
from kiosk_server.models import Account, LedgerEntry, Site, Ticket, TicketLine
from kiosk_server.problems import ProblemError
from kiosk_server.schemas_money import Statement, StatementPart
from kiosk_server.services.tickets import vat_by_rate


def month_bounds(site: Site, month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The first instant of the month and of the next, in the site's time zone."""
    zone = ZoneInfo(site.time_zone)
    start = dt.datetime(month.year, month.month, 1, tzinfo=zone)
    following = dt.datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=zone)
    return start, following


async def monthly_statement(
    session: AsyncSession, *, account: Account, site: Site, month: dt.date, now: dt.datetime
) -> Statement:
    """The statement of `month` (its first day); `statement-month-invalid` for a month not
    begun yet."""
    start, end = month_bounds(site, month)
    if start > now:
        raise ProblemError("statement-month-invalid", "This month has not begun yet.")
    opening = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            LedgerEntry.account_id == account.id, LedgerEntry.created_at < start
        )
    )
    moved = {
        kind: (int(total), int(count))
        for kind, total, count in (
            await session.execute(
                select(LedgerEntry.kind, func.sum(LedgerEntry.amount_cents), func.count())
                .where(
                    LedgerEntry.account_id == account.id,
                    LedgerEntry.created_at >= start,
                    LedgerEntry.created_at < end,
                )
                .group_by(LedgerEntry.kind)
            )
        ).all()
    }
    # VAT of what was bought, net of what was refunded: per rate, lines of purchase tickets
    # minus lines of refund tickets.
    signed = case(
        (Ticket.kind == "refund", -TicketLine.line_total_cents), else_=TicketLine.line_total_cents
    )
    per_rate = {
        int(rate): int(total)
        for rate, total in (
            await session.execute(
                select(TicketLine.vat_rate_bp, func.sum(signed))
                .join(Ticket, Ticket.id == TicketLine.ticket_id)
                .where(
                    Ticket.account_id == account.id,
                    Ticket.kind.in_(("purchase", "refund")),
                    Ticket.created_at >= start,
                    Ticket.created_at < end,
                )
                .group_by(TicketLine.vat_rate_bp)
            )
        ).all()
        if total
    }

    def money(cents: int) -> schemas.Money:
        return schemas.Money(amount_cents=cents, currency=site.currency)

    def part(kind: str, sign: int = 1) -> StatementPart:
        total, count = moved.get(kind, (0, 0))
        return StatementPart(amount=money(sign * total), count=count)

    opening_cents = int(opening or 0)
    closing_cents = opening_cents + sum(total for total, _ in moved.values())
    return Statement(
        month=f"{month:%Y-%m}",
        site=schemas.SiteRef(code=site.code, name=site.name),
        name=account.name,
        identifier=account.identifier,
        opening_balance=money(opening_cents),
        purchases=part("purchase", -1),
        top_ups=part("top_up"),
        refunds=part("refund"),
        adjustments=part("adjustment"),
        closing_balance=money(closing_cents),
        vat=vat_by_rate(per_rate, site.currency),
    )


async def email_statement(
    session: AsyncSession, *, account: Account, site: Site, month: dt.date, now: dt.datetime
) -> schemas.StatementSent:
    """Send the month's statement as a PDF to the person's email (through the outbox);
    `no-contact` when they have none."""
    import base64

    from kiosk_server.notify.outbox import enqueue_message
    from kiosk_server.preferences import preferences_of
    from kiosk_server.security import mask_email
    from kiosk_server.statement_pdf import statement_pdf

    if not account.email:
        raise ProblemError("no-contact", "No email address is known for this account.")
    statement = await monthly_statement(session, account=account, site=site, month=month, now=now)
    language = preferences_of(account.preferences).language or site.locale[:2].lower()
    locale = site.locale if language == site.locale[:2].lower() else language
    pdf = statement_pdf(statement, locale=locale)
    tr = texts(language)
    await enqueue_message(
        session,
        site=site,
        account=account,
        channel="email",
        recipient=account.email,
        subject=tr.gettext("Your monthly statement %(month)s") % {"month": statement.month},
        body=tr.gettext("Please find attached your statement for %(month)s (%(site)s).")
        % {"month": statement.month, "site": site.name},
        now=now,
        attachments={f"statement-{statement.month}.pdf": base64.b64encode(pdf).decode("ascii")},
    )
    return schemas.StatementSent(destination=mask_email(account.email))
