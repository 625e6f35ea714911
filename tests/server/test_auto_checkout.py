"""Automatic check-out: a site checks its visitors out at a set hour or after a duration on site,
and reminds the host before; the roll call then no longer lists them, the visit's history and
the audit log say it was automatic; a sweep run twice (two workers) checks out and reminds once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kiosk_server.clock import ManualClock
from kiosk_server.db import as_utc
from kiosk_server.models import Notification, Site, VisitVisitor
from kiosk_server.services.auto_checkout import due_at, sweep
from kiosk_server.site_settings import SiteSettings
from tests.factories import Factory
from tests.server.visits_support import (
    DAY,
    People,
    audit_rows,
    people_fixture,  # noqa: F401 - the `people` fixture
    set_local,
    set_site_settings,
    visitor,
)

PARIS = ZoneInfo("Europe/Paris")


def at(time: str, day: dt.date = DAY) -> dt.datetime:
    hours, minutes = (int(part) for part in time.split(":"))
    return dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=PARIS).astimezone(dt.UTC)


def test_due_at_the_hour_or_after_the_duration_whichever_is_first() -> None:
    by_hour = SiteSettings(auto_checkout_time=dt.time(18, 0))
    assert due_at(by_hour, PARIS, at("09:30")) == at("18:00")
    # Arrived after the hour: the next day's.
    assert due_at(by_hour, PARIS, at("19:00")) == at("18:00", DAY + dt.timedelta(days=1))
    both = SiteSettings(auto_checkout_time=dt.time(18, 0), auto_checkout_after_minutes=240)
    assert due_at(both, PARIS, at("09:30")) == at("13:30")
    assert due_at(both, PARIS, at("16:00")) == at("18:00")
    assert due_at(SiteSettings(), PARIS, at("09:30")) is None


async def run_sweep(factory: Factory, clock: ManualClock) -> tuple[int, int]:
    async with factory.session_factory() as session:
        swept = await sweep(session, now=clock.now())
    return swept.checked_out, swept.reminded


async def test_visitors_are_reminded_then_checked_out(
    people: People, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await set_site_settings(factory, site, auto_checkout_time="17:00", checkout_reminder_minutes=30)
    visit = await people.approved(visitors=[visitor("Anne", "Martin"), visitor("Bruno", "Roy")])
    ids = {v["last_name"]: v["id"] for v in visit["visitors"]}
    set_local(clock, DAY, "10:30")
    for visitor_id in ids.values():
        answer = await people.desk_post(f"/v1/reception/visitors/{visitor_id}/check-in")
        assert answer.status_code == 200, answer.text
    await people.desk_post(f"/v1/reception/visitors/{ids['Roy']}/check-out")

    set_local(clock, DAY, "16:00")
    assert await run_sweep(factory, clock) == (0, 0)
    set_local(clock, DAY, "16:31")
    assert await run_sweep(factory, clock) == (0, 1)
    assert await run_sweep(factory, clock) == (0, 0)  # another worker's sweep: reminded once
    async with factory.session_factory() as session:
        notices = (
            await session.scalars(
                select(Notification).where(Notification.kind == "visitor_checkout_soon")
            )
        ).all()
    [notice] = notices
    assert "Anne Martin" in notice.body and "17:00" in notice.body

    set_local(clock, DAY, "17:05")
    assert await run_sweep(factory, clock) == (1, 0)
    assert await run_sweep(factory, clock) == (0, 0)
    async with factory.session_factory() as session:
        martin = await session.get(VisitVisitor, ids["Martin"])
    assert martin is not None and martin.checked_out_at is not None
    # Recorded at the time it was due, not the sweep's.
    assert as_utc(martin.checked_out_at) == at("17:00")
    roll_call = (await people.desk_get("/v1/reception/roll-call")).json()
    assert roll_call["people"] == []
    rows = [r for r in await audit_rows(factory) if r.subject == f"visitor:{ids['Martin']}"]
    out = [r for r in rows if r.action == "visitor.checked_out"]
    assert len(out) == 1 and out[0].actor_account_id is None and out[0].actor_device_id is None


async def test_after_a_duration_and_not_on_sites_that_do_not_ask(
    people: People, factory: Factory, site: Site, clock: ManualClock
) -> None:
    visit = await people.approved(visitors=[visitor("Anne", "Martin")])
    [anne] = [v["id"] for v in visit["visitors"]]
    set_local(clock, DAY, "10:30")
    assert (await people.desk_post(f"/v1/reception/visitors/{anne}/check-in")).status_code == 200
    set_local(clock, DAY, "19:00")
    assert await run_sweep(factory, clock) == (0, 0)  # the site does not check out by itself

    await set_site_settings(
        factory, site, auto_checkout_after_minutes=120, checkout_reminder_minutes=0
    )
    assert await run_sweep(factory, clock) == (1, 0)  # no reminder asked
    async with factory.session_factory() as session:
        martin = await session.get(VisitVisitor, anne)
    assert martin is not None and martin.checked_out_at is not None
    assert as_utc(martin.checked_out_at) == at("12:30")
