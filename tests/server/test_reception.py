"""The reception desk over HTTP: the day's three lists with overlapping visits, search, check-in
and out on a visitor's behalf, walk-ins, the roll call (overdue marks, closing time) and its
CSV, guarded against formula injection, and the audit log."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from kiosk_server.clock import ManualClock
from kiosk_server.models import Site
from kiosk_server.services.reception import csv_cell
from tests.factories import Factory
from tests.server.conftest import PIN, assert_problem
from tests.server.visits_support import (
    DAY,
    People,
    audit_rows,
    people_fixture,  # noqa: F401 - the `people` fixture
    set_local,
    signed_in,
    visitor,
)

TOMORROW = DAY + dt.timedelta(days=1)
FORMULA = '=HYPERLINK("http://evil.test","x")'


def names(rows: list[dict[str, Any]]) -> list[str]:
    return [row["last_name"] for row in rows]


async def lists(people: People, **params: str) -> dict[str, Any]:
    answer = await people.desk_get("/v1/reception/visits", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def check_in(people: People, visitor_id: int) -> None:
    answer = await people.desk_post(f"/v1/reception/visitors/{visitor_id}/check-in")
    assert answer.status_code == 200, answer.text


async def overlapping_day(
    people: People, factory: Factory, site: Site, clock: ManualClock
) -> dict[str, int]:
    """Visits of today and tomorrow, overlapping: returns visitor ids by last name."""
    set_local(clock, DAY, "08:00")
    morning = await people.approved(
        visitors=[visitor("Anne", "Martin"), visitor("Bruno", "Roy", company="Globex")],
        arrival_from="09:00",
        arrival_until="10:00",
    )
    two_days = await people.approved(
        visitors=[visitor("Chloé", "Durand", company=FORMULA)],
        last_day=TOMORROW.isoformat(),
        arrival_from="13:00",
        arrival_until="18:00",
    )
    tomorrow = await people.approved(
        visitors=[visitor("Denis", "Faure")], first_day=TOMORROW.isoformat()
    )
    await factory.account(site, "H3", name="Zoé Bernard", email="zoe@example.com", pin=PIN)
    other_host = await signed_in(people.host, "H3")
    pending = await people.host.post(
        "/v1/me/visits",
        json={
            "visitors": [visitor("Emma", "Gauthier", company="Initech")],
            "first_day": DAY.isoformat(),
            "arrival_from": "11:00",
            "arrival_until": "16:00",
            "reason": "Entretien",
            "submit": True,
        },
        headers=other_host,
    )
    assert pending.status_code == 201, pending.text
    ids = {
        v["last_name"]: v["id"]
        for visit in (morning, two_days, tomorrow, pending.json())
        for v in visit["visitors"]
    }
    ids["pending_visit"] = pending.json()["id"]
    return ids


async def test_lists_roll_call_and_csv_through_a_day(
    people: People, factory: Factory, site: Site, clock: ManualClock
) -> None:
    ids = await overlapping_day(people, factory, site, clock)
    day = await lists(people)
    assert day["day"] == DAY.isoformat()
    assert names(day["expected"]) == ["Martin", "Roy", "Gauthier", "Durand"]
    assert day["on_site"] == day["left"] == []
    assert [r["state"] for r in day["expected"]] == [
        "approved",
        "approved",
        "requested",
        "approved",
    ]

    set_local(clock, DAY, "09:15")
    await check_in(people, ids["Martin"])
    await check_in(people, ids["Roy"])
    set_local(clock, DAY, "09:30")
    out = await people.desk_post(f"/v1/reception/visitors/{ids['Roy']}/check-out")
    assert out.status_code == 200, out.text

    set_local(clock, DAY, "13:10")
    await check_in(people, ids["Durand"])
    set_local(clock, DAY, "13:15")
    day = await lists(people)
    assert names(day["expected"]) == ["Gauthier"]
    assert names(day["on_site"]) == ["Martin", "Durand"]
    assert names(day["left"]) == ["Roy"]
    assert [r["overdue"] for r in day["on_site"]] == [True, False]
    assert day["on_site"][1]["host_name"] == "Hélène Girard"

    call = (await people.desk_get("/v1/reception/roll-call")).json()
    assert [(p["last_name"], p["overdue"]) for p in call["people"]] == [
        ("Martin", True),
        ("Durand", False),
    ]
    assert call["generated_at"].startswith("2026-11-02T12:15")
    assert call["people"][0]["host_name"] == "Hélène Girard"

    exported = await people.desk_get("/v1/reception/roll-call.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[1] == ["last_name", "first_name", "company", "host", "checked_in_at", "overdue"]
    assert rows[2] == ["Martin", "Anne", "ACME", "Hélène Girard", "2026-11-02 09:15", "yes"]
    assert rows[3][0] == "Durand"
    assert rows[3][2] == "'" + FORMULA

    set_local(clock, DAY, "19:00")
    call = (await people.desk_get("/v1/reception/roll-call")).json()
    assert [(p["last_name"], p["overdue"]) for p in call["people"]] == [
        ("Martin", True),
        ("Durand", True),
    ]
    set_local(clock, DAY, "20:01")
    assert (await people.desk_get("/v1/reception/roll-call")).json()["people"] == []
    day = await lists(people)
    assert names(day["left"]) == ["Martin", "Roy", "Durand"]
    assert names(day["expected"]) == []  # The pending visit expired with its window.

    set_local(clock, TOMORROW, "09:00")
    tomorrow = await lists(people)
    assert names(tomorrow["expected"]) == ["Durand", "Faure"]
    assert tomorrow["day"] == TOMORROW.isoformat()
    yesterday = await lists(people, day=DAY.isoformat())
    assert names(yesterday["left"]) == ["Martin", "Roy", "Durand"]


async def test_search_by_visitor_company_and_host(
    people: People, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await overlapping_day(people, factory, site, clock)
    assert names((await lists(people, q="globex"))["expected"]) == ["Roy"]
    assert names((await lists(people, q="CHLOE"))["expected"]) == ["Durand"]
    assert names((await lists(people, q="zoe bern"))["expected"]) == ["Gauthier"]
    assert names((await lists(people, q="girard martin"))["expected"]) == ["Martin"]
    assert (await lists(people, q="nobody"))["expected"] == []


async def test_listing_expires_visits_whose_window_is_over(
    people: People, clock: ManualClock
) -> None:
    set_local(clock, DAY, "08:00")
    morning = await people.approved(
        visitors=[visitor("Anne", "Martin")], arrival_from="09:00", arrival_until="10:00"
    )
    afternoon = await people.approved(
        visitors=[visitor("Bruno", "Roy")], arrival_from="13:00", arrival_until="14:00"
    )
    # The site's margin (30 minutes by default) keeps the morning visit until 10:30.
    set_local(clock, DAY, "10:29")
    assert names((await lists(people))["expected"]) == ["Martin", "Roy"]
    set_local(clock, DAY, "10:31")
    assert names((await lists(people))["expected"]) == ["Roy"]
    states = {}
    for visit in (morning, afternoon):
        detail = await people.host.get(f"/v1/me/visits/{visit['id']}", headers=people.host_headers)
        assert detail.status_code == 200, detail.text
        states[visit["visitors"][0]["last_name"]] = detail.json()["state"]
    assert states == {"Martin": "expired", "Roy": "approved"}


async def test_reception_check_in_refusals_and_badge(
    people: People, factory: Factory, site: Site, clock: ManualClock
) -> None:
    ids = await overlapping_day(people, factory, site, clock)
    set_local(clock, DAY, "11:00")
    assert_problem(
        await people.desk_post(f"/v1/reception/visitors/{ids['Gauthier']}/check-in"),
        409,
        "invitation-not-approved",
    )
    assert_problem(
        await people.desk_post(f"/v1/reception/visitors/{ids['Faure']}/check-in"),
        409,
        "invitation-not-today",
    )
    assert_problem(
        await people.desk_post(f"/v1/reception/visitors/{ids['Roy']}/check-out"),
        409,
        "visitor-not-checked-in",
    )
    assert_problem(
        await people.desk_post("/v1/reception/visitors/999999/check-in"), 404, "visitor-unknown"
    )
    # Late, outside the window: reception still checks the visitor in.
    await check_in(people, ids["Roy"])
    assert_problem(
        await people.desk_post(f"/v1/reception/visitors/{ids['Roy']}/check-in"),
        409,
        "invitation-used",
    )
    badge = await people.desk_get(f"/v1/reception/visitors/{ids['Roy']}/badge")
    assert badge.status_code == 200, badge.text
    assert badge.json()["last_name"] == "Roy"
    assert badge.json()["checkout_token"].startswith("V1")
    left = await people.kiosk.post(
        "/v1/visitor-desk/check-out", json={"token": badge.json()["checkout_token"]}
    )
    assert left.status_code == 200, left.text


async def test_walk_in_at_reception(people: People, clock: ManualClock) -> None:
    set_local(clock, DAY, "11:00")
    unknown = await people.desk_post(
        "/v1/reception/walk-ins",
        json={**visitor("Paul", "Nguyen", email=None), "host_full_name": "Hélène Gir"},
    )
    assert_problem(unknown, 404, "host-unknown")
    created = await people.desk_post(
        "/v1/reception/walk-ins",
        json={**visitor("Paul", "Nguyen", email=None), "host_full_name": "HELENE GIRARD"},
    )
    assert created.status_code == 201, created.text
    visit_id, visitor_id = created.json()["visit_id"], created.json()["visitor_id"]
    day = await lists(people)
    assert [(r["last_name"], r["state"], r["walk_in"]) for r in day["expected"]] == [
        ("Nguyen", "requested", True)
    ]
    approved = await people.desk_post(f"/v1/reception/visits/{visit_id}/approve")
    assert approved.status_code == 200, approved.text
    await check_in(people, visitor_id)
    assert names((await lists(people))["on_site"]) == ["Nguyen"]


async def test_audit_log_records_approvals_rejections_deletions_and_checks(
    people: People, factory: Factory, clock: ManualClock
) -> None:
    approved = await people.approved()
    rejected = await people.create(submit=True)
    await people.desk_post(
        f"/v1/reception/visits/{rejected['id']}/reject", json={"reason": "Complet"}
    )
    cancelled = await people.create(submit=True)
    await people.host.delete(f"/v1/me/visits/{cancelled['id']}", headers=people.host_headers)
    set_local(clock, DAY, "14:00")
    visitor_id = approved["visitors"][0]["id"]
    await check_in(people, visitor_id)
    await people.desk_post(f"/v1/reception/visitors/{visitor_id}/check-out")
    rows = await audit_rows(factory)
    assert [(r.action, r.subject) for r in rows] == [
        ("visit.approved", f"visit:{approved['id']}"),
        ("visit.rejected", f"visit:{rejected['id']}"),
        ("visit.cancelled", f"visit:{cancelled['id']}"),
        ("visitor.checked_in", f"visitor:{visitor_id}"),
        ("visitor.checked_out", f"visitor:{visitor_id}"),
    ]
    assert rows[1].detail == {"reason": "Complet"}
    assert rows[3].detail["visitor_name"] == "Léa Dupont"
    assert all(r.actor_account_id is not None and r.actor_device_id is not None for r in rows)


def test_csv_cells_never_start_a_formula_nor_carry_controls() -> None:
    for dangerous in ("=1+1", "+33 6", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(dangerous).startswith("'")
    assert csv_cell("Bob\x1b[31m\x07") == "Bob[31m"
    assert csv_cell("Dupont") == "Dupont"
