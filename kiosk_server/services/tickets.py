"""Tickets: what a person sees of each movement of their money, read back (the history, one
ticket with its lines and VAT). The movements that write them are `services.money`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from kiosk_server.cursors import decode_cursor, encode_cursor
from kiosk_server.models import Account, Order, Ticket, TopUp
from kiosk_server.problems import ProblemError
from kiosk_server.schemas_money import (
    TicketDetail,
    TicketLineOut,
    TicketPage,
    TicketSummary,
    VatRateSummary,
)
from kiosk_server.services.money.amounts import money
from kiosk_server.services.money.ledger import Line

DEFAULT_PAGE = 30
MAX_PAGE = 100


def _references() -> tuple[Any, Any]:
    """The order and the online top-up that made a ticket, as scalar subqueries correlated to
    `Ticket` (each an index lookup)."""
    order = (
        select(Order.id)
        .where(or_(Order.ticket_id == Ticket.id, Order.refund_ticket_id == Ticket.id))
        .limit(1)
        .scalar_subquery()
    )
    top_up = select(TopUp.id).where(TopUp.ticket_id == Ticket.id).limit(1).scalar_subquery()
    return order, top_up


def _summary_fields(
    ticket: Ticket, order_id: int | None = None, top_up_id: int | None = None
) -> dict[str, object]:
    return {
        "id": ticket.id,
        "kind": ticket.kind,
        "created_at": ticket.created_at.replace(tzinfo=dt.UTC)
        if ticket.created_at.tzinfo is None
        else ticket.created_at,
        "place": ticket.place,
        "total": money(ticket.total_cents, ticket.currency),
        "amount": money(ticket.amount_cents, ticket.currency),
        "balance_after": money(ticket.balance_after_cents, ticket.currency),
        "order_id": order_id,
        "top_up_id": top_up_id,
    }


async def list_tickets(
    session: AsyncSession, *, account: Account, cursor: str | None, limit: int
) -> TicketPage:
    """The account's tickets, newest first, `limit` at a time after `cursor`."""
    limit = max(1, min(limit, MAX_PAGE))
    order, top_up = _references()
    query = select(Ticket, order, top_up).where(Ticket.account_id == account.id)
    if cursor:
        query = query.where(Ticket.id < decode_cursor(cursor))
    rows = list((await session.execute(query.order_by(Ticket.id.desc()).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return TicketPage(
        items=[
            TicketSummary.model_validate(_summary_fields(ticket, order_id, top_up_id))
            for ticket, order_id, top_up_id in rows
        ],
        next_cursor=encode_cursor(rows[-1][0].id) if more and rows else None,
    )


def vat_summary(lines: Sequence[Line], currency: str) -> list[VatRateSummary]:
    """Per VAT rate, from prices that include VAT: total = sum of the lines at that rate;
    base = total / (1 + rate), rounded to the cent half away from zero; VAT = total - base
    (so base + VAT is always exactly the total)."""
    totals: dict[int, int] = {}
    for line in lines:
        totals[line.vat_rate_bp] = totals.get(line.vat_rate_bp, 0) + line.total_cents
    return vat_by_rate(totals, currency)


def vat_by_rate(totals: dict[int, int], currency: str) -> list[VatRateSummary]:
    """Base, VAT and total for each rate's total (VAT included), as `vat_summary` says."""
    summary = []
    for rate, total in sorted(totals.items()):
        base = int(
            (Decimal(total) * 10_000 / Decimal(10_000 + rate)).quantize(
                Decimal(1), rounding=ROUND_HALF_UP
            )
        )
        summary.append(
            VatRateSummary(
                rate_bp=rate,
                base=money(base, currency),
                vat=money(total - base, currency),
                total=money(total, currency),
            )
        )
    return summary


async def ticket_detail(session: AsyncSession, *, account: Account, ticket_id: int) -> TicketDetail:
    """One of the account's tickets with its lines; another person's is `ticket-unknown`."""
    order, top_up = _references()
    found = (
        await session.execute(
            select(Ticket, order, top_up)
            .where(Ticket.id == ticket_id, Ticket.account_id == account.id)
            .options(selectinload(Ticket.lines))
        )
    ).first()
    if found is None:
        raise ProblemError("ticket-unknown", "No such ticket in your history.")
    ticket, order_id, top_up_id = found
    lines = [
        Line(line.item, line.quantity, line.unit_price_cents, line.vat_rate_bp)
        for line in ticket.lines
    ]
    currency = ticket.currency
    return TicketDetail.model_validate(
        {
            **_summary_fields(ticket, order_id, top_up_id),
            "lines": [
                TicketLineOut(
                    item=line.item,
                    quantity=line.quantity,
                    unit_price=money(line.unit_price_cents, currency),
                    vat_rate_bp=line.vat_rate_bp,
                    line_total=money(line.total_cents, currency),
                )
                for line in lines
            ],
            "vat": vat_summary(lines, currency),
        }
    )
