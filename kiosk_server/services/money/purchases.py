"""A till's purchase: the person shows their badge, the till sends the lines and the total, and
the account pays once (`till_purchase`).

The service's busiest request, so it goes without the ORM: no `Account`, `LedgerEntry` or
`Ticket` object, only statements built once and run with parameters. On PostgreSQL the work
is two statements: the account read together with the token's use (`badges.spend_badge`),
then `ledger.post`'s one statement, which also stores the receipt as the request's idempotency
answer (`_receipt_json`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from kiosk_server.models import Account, Device, Ticket
from kiosk_server.problems import ProblemError
from kiosk_server.schemas_money import PurchaseReceipt, TillLine
from kiosk_server.services import idempotency, notifications
from kiosk_server.services.badges import spend_badge
from kiosk_server.services.money import ledger
from kiosk_server.services.money.amounts import money

_TICKETS = cast(Table, Ticket.__table__)


async def till_purchase(
    session: AsyncSession,
    *,
    device: Device,
    badge_token: str,
    lines: Sequence[TillLine],
    total_cents: int,
    now: dt.datetime,
    pending: idempotency.PendingAnswer | None = None,
) -> PurchaseReceipt:
    """A till's purchase for the person whose badge it read: checks the total, spends the
    token, debits the account and stores the ticket (and on PostgreSQL, the `pending` answer
    of `idempotency.once`, the receipt, in the same statement)."""
    ticket_lines = [
        ledger.Line(line.item, line.quantity, line.unit_price_cents, line.vat_rate_bp)
        for line in lines
    ]
    lines_total = sum(line.total_cents for line in ticket_lines)
    if lines_total != total_cents:
        raise ProblemError(
            "total-mismatch",
            f"The lines add up to {lines_total} cents, not {total_cents}.",
        )
    spent = await spend_badge(session, device=device, token=badge_token, now=now)
    site = spent.site
    movement = ledger.movement(
        site,
        account_id=spent.account_id,
        kind="purchase",
        amount_cents=-total_cents,
        reason=f"purchase at {device.name}",
        place=device.name,
        lines=ticket_lines,
        now=now,
        device_id=device.id,
        overdraft_limit=spent.settings.overdraft_limit_cents,
    )
    answer = (
        ledger.StoredWith(pending, _receipt_json, {"r_name": spent.name})
        if pending is not None
        else None
    )
    posted = await ledger.post(session, movement, answer=answer)
    balance = posted.balance_after_cents
    threshold = spent.low_balance_cents
    if threshold is not None and balance < threshold <= balance + total_cents:
        # Rare (a payment crossing the person's alert): only then is the account loaded.
        account = await session.get(Account, spent.account_id)
        if account is not None:
            set_committed_value(account, "balance_cents", balance)
            await notifications.alert_low_balance(
                session, account=account, site=site, before_cents=balance + total_cents, now=now
            )
    return PurchaseReceipt(
        ticket_id=posted.ticket_id,
        name=spent.name,
        total=money(total_cents, site.currency),
        balance_after=money(balance, site.currency),
    )


def _receipt_json(made: Any) -> Any:
    """`SELECT json_build_object(...) FROM made`: the `PurchaseReceipt` of the purchase as
    PostgreSQL JSON, from the `made` ticket's id and balance after and the parameters
    `r_name`, `t_total_cents`, `t_currency`. What `PurchaseReceipt.model_dump(mode="json")`
    gives, keys in the same order (a test checks that the stored answer is the one sent)."""
    currency = bindparam("t_currency", type_=_TICKETS.c.currency.type)

    def money(cents: Any) -> Any:
        return func.json_build_object(
            literal_column("'amount_cents'"), cents, literal_column("'currency'"), currency
        )

    return select(
        func.json_build_object(
            literal_column("'ticket_id'"),
            made.c.id,
            literal_column("'name'"),
            bindparam("r_name", type_=String),
            literal_column("'total'"),
            money(bindparam("t_total_cents", type_=_TICKETS.c.total_cents.type)),
            literal_column("'balance_after'"),
            money(made.c.balance_after_cents),
        )
    )
