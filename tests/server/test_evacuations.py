"""Evacuations over HTTP: reception starts one with everyone on site, marks people safe at the
muster point, sees who is missing, closes it with a CSV report; one at a time per site; the
audit log keeps the start and the close; other sites and other people see nothing of it."""

from __future__ import annotations

import csv
import io

from fastapi import FastAPI

from kiosk_server.clock import ManualClock
from kiosk_server.models import Site
from tests.conftest import device_client
from tests.factories import Factory
from tests.server.conftest import PIN, assert_problem, bearer, sign_in
from tests.server.visits_support import (
    DAY,
    People,
    audit_rows,
    people_fixture,  # noqa: F401 - the `people` fixture
    set_local,
    visitor,
)

FORMULA = "=cmd|' /C calc'!A0"


async def on_site(people: People, clock: ManualClock) -> dict[str, int]:
    """Three visitors checked in (one of them a formula), one checked out: visitor ids."""
    visit = await people.approved(
        visitors=[
            visitor("Anne", "Martin"),
            visitor("Bruno", "Roy", company="Globex"),
            visitor("Chloé", FORMULA),
            visitor("Denis", "Petit"),
        ]
    )
    ids = {v["last_name"]: v["id"] for v in visit["visitors"]}
    set_local(clock, DAY, "10:30")
    for visitor_id in ids.values():
        answer = await people.desk_post(f"/v1/reception/visitors/{visitor_id}/check-in")
        assert answer.status_code == 200, answer.text
    out = await people.desk_post(f"/v1/reception/visitors/{ids['Petit']}/check-out")
    assert out.status_code == 200, out.text
    return ids


def missing(evacuation: dict[str, object]) -> list[str]:
    people = evacuation["people"]
    assert isinstance(people, list)
    return [p["last_name"] for p in people if p["safe_at"] is None]


async def test_a_muster_from_start_to_report(
    people: People, factory: Factory, clock: ManualClock
) -> None:
    ids = await on_site(people, clock)
    none = await people.desk_get("/v1/reception/evacuations/current")
    assert_problem(none, 404, "evacuation-none")

    set_local(clock, DAY, "11:00")
    started = await people.desk_post("/v1/reception/evacuations")
    assert started.status_code == 201, started.text
    evacuation = started.json()
    assert evacuation["started_by"] == "Rémi Accueil" and evacuation["closed_at"] is None
    assert (evacuation["safe"], evacuation["missing"]) == (0, 3)
    assert missing(evacuation) == [FORMULA, "Martin", "Roy"]
    again = await people.desk_post("/v1/reception/evacuations")
    assert_problem(again, 409, "evacuation-in-progress")

    base = f"/v1/reception/evacuations/{evacuation['id']}"
    set_local(clock, DAY, "11:04")
    marked = await people.desk_post(f"{base}/people/{ids['Martin']}/safe")
    assert marked.status_code == 200, marked.text
    set_local(clock, DAY, "11:09")
    twice = (await people.desk_post(f"{base}/people/{ids['Martin']}/safe")).json()
    assert (twice["safe"], twice["missing"]) == (1, 2)
    [martin] = [p for p in twice["people"] if p["last_name"] == "Martin"]
    assert martin["safe_at"].startswith("2026-11-02T10:04")  # the first mark stays (UTC)
    assert martin["marked_by"] == "Rémi Accueil"
    # The checked-out visitor was not on site: not part of this muster.
    assert_problem(
        await people.desk_post(f"{base}/people/{ids['Petit']}/safe"), 404, "visitor-unknown"
    )
    current = (await people.desk_get("/v1/reception/evacuations/current")).json()
    assert missing(current) == [FORMULA, "Roy"]

    set_local(clock, DAY, "11:20")
    closed = await people.desk_post(f"{base}/close")
    assert closed.status_code == 200, closed.text
    assert closed.json()["closed_by"] == "Rémi Accueil"
    assert_problem(await people.desk_post(f"{base}/close"), 409, "evacuation-closed")
    assert_problem(
        await people.desk_post(f"{base}/people/{ids['Roy']}/safe"), 409, "evacuation-closed"
    )
    none = await people.desk_get("/v1/reception/evacuations/current")
    assert_problem(none, 404, "evacuation-none")

    report = await people.desk_get(f"{base}/report.csv")
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(report.text)))
    assert rows[0][1:] == ["2026-11-02 11:00", "2026-11-02 11:20", "safe 1", "missing 2"]
    assert [(r[0], r[1]) for r in rows[2:]] == [
        ("missing", "'" + FORMULA),
        ("missing", "Roy"),
        ("safe", "Martin"),
    ]
    assert rows[4][6:] == ["2026-11-02 11:04", "Rémi Accueil"]

    actions = [(row.action, row.detail) for row in await audit_rows(factory)]
    assert ("evacuation.started", {"people": 3}) in actions
    assert ("evacuation.closed", {"safe": 1, "missing": 2}) in actions

    # A new one can start once the last is closed.
    assert (await people.desk_post("/v1/reception/evacuations")).status_code == 201


async def test_someone_checked_in_during_an_evacuation_is_on_its_muster(
    people: People, clock: ManualClock
) -> None:
    """A visitor let in while an evacuation is open (a drill, a late arrival at the door) is
    missing until marked safe; checked in after it closed, on none."""
    await on_site(people, clock)
    late = await people.approved(visitors=[visitor("Emma", "Lenoir", email="emma@example.com")])
    late_id = late["visitors"][0]["id"]
    set_local(clock, DAY, "11:00")
    started = (await people.desk_post("/v1/reception/evacuations")).json()
    assert started["missing"] == 3
    set_local(clock, DAY, "11:05")
    checked = await people.desk_post(f"/v1/reception/visitors/{late_id}/check-in")
    assert checked.status_code == 200, checked.text
    current = (await people.desk_get("/v1/reception/evacuations/current")).json()
    assert "Lenoir" in missing(current) and current["missing"] == 4
    base = f"/v1/reception/evacuations/{started['id']}"
    safe = await people.desk_post(f"{base}/people/{late_id}/safe")
    assert safe.json()["missing"] == 3
    closed = (await people.desk_post(f"{base}/close")).json()
    assert (closed["safe"], closed["missing"]) == (1, 3)
    # After the close, a check-in joins no evacuation.
    after = await people.approved(visitors=[visitor("Farid", "Noël", email="farid@example.com")])
    set_local(clock, DAY, "11:30")
    farid = after["visitors"][0]["id"]
    assert (await people.desk_post(f"/v1/reception/visitors/{farid}/check-in")).status_code == 200
    report = await people.desk_get(f"{base}/report.csv")
    assert "Noël" not in report.text and "Lenoir" in report.text


async def test_only_reception_of_the_site_sees_it(
    people: People, service_app: FastAPI, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await on_site(people, clock)
    evacuation = (await people.desk_post("/v1/reception/evacuations")).json()
    base = f"/v1/reception/evacuations/{evacuation['id']}"
    # The host has no reception role.
    assert_problem(await people.host.post(base + "/close", headers=people.host_headers), 403,
                   "role-forbidden")  # fmt: skip
    # Reception of another site: as if it did not exist.
    other = await factory.site("NORD", name="Site Nord")
    await factory.account(other, "R9", name="Nora Nord", pin=PIN, roles=["reception"])
    terminal = await factory.device([other], name="Accueil Nord")
    async with device_client(service_app, terminal.key) as nord:
        answer = await sign_in(nord, "R9", PIN, solution="NORD")
        headers = bearer(answer.json()["token"])
        assert_problem(await nord.get(f"{base}/report.csv", headers=headers), 404,
                       "evacuation-unknown")  # fmt: skip
        assert_problem(await nord.get("/v1/reception/evacuations/current", headers=headers),
                       404, "evacuation-none")  # fmt: skip
