"""The retention purge: visitor personal data deleted after the site's retention period, in the
visitors' rows, the outbox and the audit log, while the visit stays as an anonymous record; and
`kiosk-server purge` saying what it did."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk_server.admin.purge import PurgeReport, purge
from kiosk_server.cli import main
from kiosk_server.clock import ManualClock
from kiosk_server.models import Site, VisitVisitor
from tests.factories import Factory
from tests.server.cli_support import isolate_environment
from tests.server.visits_support import (
    DAY,
    People,
    audit_rows,
    people_fixture,  # noqa: F401 - the `people` fixture
    set_local,
    visitor,
)


async def run_purge(factory: Factory, site_code: str | None = None) -> PurgeReport:
    async with factory.session_factory() as session:
        report = await purge(session, site_code=site_code, now=factory.clock.now())
        await session.commit()
        return report


async def test_purge_anonymises_after_retention_and_keeps_the_visit(
    people: People, factory: Factory, clock: ManualClock
) -> None:
    old = await people.approved(
        visitors=[
            visitor("Léa", "Dupont", company="ACME"),
            visitor("Marc", "Petit", email=None, phone="+33612345678"),
        ]
    )
    later = await people.approved(
        visitors=[visitor("Zoé", "Roux", email="zoe@example.com")],
        first_day=(DAY + dt.timedelta(days=10)).isoformat(),
    )
    lea = old["visitors"][0]["id"]
    set_local(clock, DAY, "14:00")
    assert (await people.desk_post(f"/v1/reception/visitors/{lea}/check-in")).status_code == 200
    await people.desk_post(f"/v1/reception/visitors/{lea}/check-out")
    assert await factory.outbox("lea@example.com")
    assert await factory.outbox("+33612345678")
    host_mail_before = await factory.outbox("helene@example.com")
    assert host_mail_before  # "your visitor has arrived"

    set_local(clock, DAY + dt.timedelta(days=30), "23:00")
    report = await run_purge(factory)
    assert report.sites[0].visitors_anonymised == 0

    set_local(clock, DAY + dt.timedelta(days=31), "00:30")
    report = await run_purge(factory)
    (done,) = report.sites
    assert done.site_code == "CANTINE"
    assert done.visitors_anonymised == 2
    assert done.messages_deleted == 2
    assert done.audit_entries_scrubbed == 2

    async with factory.session_factory() as session:
        rows = {
            v.id: v
            for v in (await session.scalars(select(VisitVisitor).order_by(VisitVisitor.id))).all()
        }
    for visitor_id in (v["id"] for v in old["visitors"]):
        row = rows[visitor_id]
        assert (row.first_name, row.last_name, row.company) == ("", "", "")
        assert row.email is None and row.phone is None and row.code_hash is None
        assert row.anonymised_at is not None
    assert rows[lea].checked_in_at is not None  # The record of the visit stays.
    assert rows[later["visitors"][0]["id"]].last_name == "Roux"

    assert await factory.outbox("lea@example.com") == []
    assert await factory.outbox("+33612345678") == []
    assert await factory.outbox("zoe@example.com")
    assert len(await factory.outbox("helene@example.com")) == len(host_mail_before)

    audit = await audit_rows(factory)
    checked = [r for r in audit if r.subject == f"visitor:{lea}"]
    assert [r.action for r in checked] == ["visitor.checked_in", "visitor.checked_out"]
    for entry in checked:
        assert "visitor_name" not in entry.detail and "company" not in entry.detail
        assert entry.detail["anonymised"] is True
        assert entry.detail["visit_id"] == old["id"]
    assert "Dupont" not in repr([r.detail for r in audit])

    detail = await people.host.get(f"/v1/me/visits/{old['id']}", headers=people.host_headers)
    assert detail.status_code == 200, detail.text
    shown = detail.json()
    assert shown["state"] == "checked_out"
    assert shown["visitor_names"] == []
    assert [v["anonymised"] for v in shown["visitors"]] == [True, True]
    assert "checked_in" in [event["kind"] for event in shown["history"]]

    again = await run_purge(factory)
    assert again.sites[0].visitors_anonymised == 0


async def test_retention_is_a_site_setting(
    people: People, factory: Factory, site: Site, clock: ManualClock
) -> None:
    async with factory.session_factory() as session:
        mine = await session.get(Site, site.id)
        assert mine is not None
        mine.settings = {**mine.settings, "visitor_retention_days": 2}
        await session.commit()
    await people.approved()
    other = await factory.site("USINE", name="Usine Nord")
    set_local(clock, DAY + dt.timedelta(days=3), "08:00")
    report = await run_purge(factory, "usine")
    assert [s.site_code for s in report.sites] == [other.code]
    assert report.sites[0].visitors_anonymised == 0
    report = await run_purge(factory)
    assert {s.site_code: s.visitors_anonymised for s in report.sites} == {
        "CANTINE": 1,
        "USINE": 0,
    }
    # Expired on the way: nobody came.
    assert report.sites[0].visits_expired == 1


async def test_the_command_prints_what_it_did(
    people: People,
    factory: Factory,
    clock: ManualClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Years before any real clock: the command purges with the system's time.
    long_ago = dt.date(2020, 1, 6)
    set_local(clock, long_ago, "08:00")
    await people.approved(first_day=long_ago.isoformat())
    isolate_environment(monkeypatch, tmp_path)
    capsys.readouterr()
    status = await asyncio.to_thread(main, ["purge", "--database-url", database_url])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "Site CANTINE: 1 visitor(s) anonymised" in out
    assert "1 visit(s) expired" in out
    unknown = await asyncio.to_thread(
        main, ["purge", "--site", "NOWHERE", "--database-url", database_url]
    )
    assert unknown == 2
    assert "NOWHERE" in capsys.readouterr().err
