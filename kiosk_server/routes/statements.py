"""The signed-in person's monthly statements."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, status

from kiosk_server.deps import ClockDep, CurrentPerson, DbSession
from kiosk_server.problems import problem_responses
from kiosk_server.routes import API
from kiosk_server.schemas import StatementSent
from kiosk_server.schemas_money import Statement
from kiosk_server.services import statements

router = APIRouter(prefix=API, tags=["tickets"])

Month = Annotated[str, Path(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$")]


def _first_day(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[5:]), 1)


_PERSON = (
    "device-key-missing",
    "device-key-invalid",
    "device-role-forbidden",
    "session-missing",
    "session-invalid",
    "validation-failed",
)


@router.get(
    "/me/statements/{month}",
    responses=problem_responses(*_PERSON, "statement-month-invalid"),
)
async def monthly_statement(
    month: Month,
    session: DbSession,
    person: CurrentPerson,
    clock: ClockDep,
) -> Statement:
    """The statement of `month` (`YYYY-MM`, the site's calendar): opening and closing balance,
    purchases, top-ups, refunds and adjustments with their counts, and the VAT of what was
    bought, net of refunds, per rate. The figures equal the ledger's to the cent."""
    return await statements.monthly_statement(
        session, account=person.account, site=person.site, month=_first_day(month), now=clock.now()
    )


@router.post(
    "/me/statements/{month}/email",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(*_PERSON, "statement-month-invalid", "no-contact"),
)
async def email_statement(
    month: Month, session: DbSession, person: CurrentPerson, clock: ClockDep
) -> StatementSent:
    """Send the month's statement as a PDF to the person's email (`destination`, masked);
    `no-contact` when they have none."""
    return await statements.email_statement(
        session, account=person.account, site=person.site, month=_first_day(month), now=clock.now()
    )
