"""The watchlist: reception adds people, invitations and check-ins are matched against it
(case, accents, spaces, punctuation and word order folded), a match holds the check-in for
reception and tells security, and the visitor is only ever told to see reception."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from kiosk_server.clock import ManualClock
from kiosk_server.models import Account, Notification, Site
from kiosk_server.services.watchlist import name_keys
from tests.conftest import device_client
from tests.factories import Factory
from tests.server.conftest import PIN, assert_problem, bearer, sign_in
from tests.server.test_admin import Cli, acme, cli, url  # noqa: F401 - fixtures
from tests.server.visits_support import (
    DAY,
    People,
    audit_rows,
    invitation_token,
    people_fixture,  # noqa: F401 - the `people` fixture
    set_local,
    visitor,
)

ENTRY = {
    "full_name": "Éloïse D'Arc-Dupont",
    "birth_date": "1980-02-03",
    "reason": "Accès interdit depuis le 3 mars",
}


def aware(stamp: str) -> bool:
    """A time the contract calls a date-time: with its offset."""
    return dt.datetime.fromisoformat(stamp).tzinfo is not None


def matches(entry: str, first_name: str, last_name: str) -> bool:
    return bool(name_keys(entry) & name_keys(first_name, last_name))


@pytest.mark.parametrize(
    ("first_name", "last_name"),
    [
        ("Éloïse", "D'Arc-Dupont"),
        ("ELOISE", "d arc dupont"),
        ("eloïse", "D’Arc  Dupont"),  # a typographic apostrophe, two spaces
        ("Eloise", "Darc-Dupont"),  # the joins dropped
        ("D'Arc-Dupont", "Éloïse"),  # first and last name swapped
        ("  Éloïse ", " D'ARC-DUPONT "),
    ],
)
def test_look_alike_spellings_of_the_same_name_match(first_name: str, last_name: str) -> None:
    assert matches("Éloïse D'Arc-Dupont", first_name, last_name)


@pytest.mark.parametrize(
    ("first_name", "last_name"),
    [
        ("Éloïse", "D'Arc-Dupond"),  # one letter apart: another person
        ("Éloïse", "Dupont"),  # part of the name only
        ("Louise", "D'Arc-Dupont"),
        ("Éloïse", "D'Arc-Dupont-Martin"),
        ("", ""),
    ],
)
def test_other_names_do_not_match(first_name: str, last_name: str) -> None:
    assert not matches("Éloïse D'Arc-Dupont", first_name, last_name)


def test_names_in_other_scripts_are_folded_too() -> None:
    assert matches("Ольга Петрова", "ОЛЬГА", "петрова")
    assert not matches("Ольга Петрова", "Ольга", "Петров")


async def _security(factory: Factory, site: Site) -> None:
    await factory.account(
        site, "S1", name="Sam Sûreté", email="surete@example.com", pin=PIN, roles=["security"]
    )


async def _notices(factory: Factory, kind: str) -> list[Notification]:
    async with factory.session_factory() as session:
        return list(
            await session.scalars(
                select(Notification).where(Notification.kind == kind).order_by(Notification.id)
            )
        )


async def _add(people: People, **overrides: Any) -> dict[str, Any]:
    added = await people.desk_post("/v1/reception/watchlist", json={**ENTRY, **overrides})
    assert added.status_code == 201, added.text
    body: dict[str, Any] = added.json()
    return body


async def _kiosk_check_in(people: People, token: str) -> Any:
    return await people.kiosk.post(
        "/v1/visitor-desk/check-in", json={"token": token, "rules_accepted": True}
    )


async def test_a_listed_visitor_is_held_until_reception_lets_them_in(
    people: People, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await _security(factory, site)
    entry = await _add(people)
    assert entry["added_by"] == "Rémi Accueil"
    assert entry["birth_date"] == "1980-02-03"
    assert aware(entry["created_at"])

    approved = await people.approved(
        visitors=[visitor("ELOISE", "d'arc dupont", email="e@example.com")]
    )
    visitor_id = approved["visitors"][0]["id"]
    # Invited: security is told ahead; the invitation goes out as usual.
    (ahead,) = await _notices(factory, "watchlist_match")
    assert "ELOISE d'arc dupont" in ahead.body and ENTRY["reason"] in ahead.body
    assert await factory.outbox("e@example.com")
    token = await invitation_token(factory, visitor_id)

    set_local(clock, DAY, "13:55")
    held = await _kiosk_check_in(people, token)
    body = assert_problem(held, 409, "check-in-held")
    # The visitor reads only that reception will finish their check-in.
    assert "reception" in str(body["detail"]).lower()
    for hidden in ("watch", "interdit", "sûreté", "security"):
        assert hidden not in held.text.lower()
    again = await _kiosk_check_in(people, token)
    assert_problem(again, 409, "check-in-held")
    # Security was told once of the hold; the host was not told anyone arrived.
    notices = await _notices(factory, "watchlist_match")
    assert len(notices) == 2
    assert "attente" in notices[1].title.lower() or "held" in notices[1].title.lower()
    assert await _notices(factory, "visitor_arrived") == []
    to_security = await factory.outbox("surete@example.com")
    assert len(to_security) == 2

    day = (await people.desk_get("/v1/reception/visits")).json()
    (row,) = day["expected"]
    assert (row["held"], row["refused"]) == (True, False)
    why = (await people.desk_get(f"/v1/reception/visitors/{visitor_id}/hold")).json()
    assert why["entry"]["reason"] == ENTRY["reason"]
    assert why["entry"]["full_name"] == ENTRY["full_name"]
    assert aware(why["held_at"]) and aware(why["entry"]["created_at"])
    listed = (await people.desk_get("/v1/reception/watchlist")).json()["entries"]
    assert all(aware(e["created_at"]) for e in listed)  # read back from the database

    # Reception's own check-in is held as well: reception decides with the entry in view.
    by_desk = await people.desk_post(f"/v1/reception/visitors/{visitor_id}/check-in")
    assert_problem(by_desk, 409, "check-in-held")

    refused = await people.desk_post(f"/v1/reception/visitors/{visitor_id}/refuse")
    assert refused.status_code == 200, refused.text
    assert refused.json()["refused_at"] is not None
    assert_problem(await _kiosk_check_in(people, token), 409, "check-in-held")
    day = (await people.desk_get("/v1/reception/visits")).json()
    assert (day["expected"][0]["held"], day["expected"][0]["refused"]) == (False, True)

    released = await people.desk_post(f"/v1/reception/visitors/{visitor_id}/release")
    assert released.status_code == 200, released.text
    assert released.json()["host_name"] == "Hélène Girard"
    assert len(await _notices(factory, "visitor_arrived")) == 1
    day = (await people.desk_get("/v1/reception/visits")).json()
    assert [r["visitor_id"] for r in day["on_site"]] == [visitor_id]
    assert_problem(
        await people.desk_post(f"/v1/reception/visitors/{visitor_id}/release"),
        409,
        "visitor-not-held",
    )

    actions = [(row.action, row.actor_account_id is not None) for row in await audit_rows(factory)]
    watch = [action for action in actions if action[0].startswith("watchlist.")]
    assert watch == [
        ("watchlist.added", True),
        ("watchlist.held", False),
        ("watchlist.refused", True),
        ("watchlist.released", True),
    ]


async def test_a_look_alike_who_is_someone_else_checks_in(
    people: People, factory: Factory, clock: ManualClock
) -> None:
    await _add(people)
    approved = await people.approved(visitors=[visitor("Éloïse", "D'Arc-Dupond")])
    token = await invitation_token(factory, approved["visitors"][0]["id"])
    set_local(clock, DAY, "14:05")
    checked = await _kiosk_check_in(people, token)
    assert checked.status_code == 200, checked.text
    assert await _notices(factory, "watchlist_match") == []


async def test_an_entry_added_after_the_invitation_still_holds_the_check_in(
    people: People, factory: Factory, clock: ManualClock
) -> None:
    """Nobody with the security role: reception is told instead. Removing the entry keeps the
    hold until reception decides."""
    approved = await people.approved(visitors=[visitor("Éloïse", "D'Arc-Dupont")])
    visitor_id = approved["visitors"][0]["id"]
    token = await invitation_token(factory, visitor_id)
    entry = await _add(people)
    set_local(clock, DAY, "14:05")
    assert_problem(await _kiosk_check_in(people, token), 409, "check-in-held")
    (notice,) = await _notices(factory, "watchlist_match")
    async with factory.session_factory() as session:
        told = await session.get(Account, notice.account_id)
        assert told is not None and told.identifier == "R1"
    assert len(await factory.outbox("accueil@example.com")) == 1
    removed = await people.desk.delete(
        f"/v1/reception/watchlist/{entry['id']}", headers=people.desk_headers
    )
    assert removed.status_code == 204, removed.text
    assert (await people.desk_get("/v1/reception/watchlist")).json() == {"entries": []}
    assert_problem(await _kiosk_check_in(people, token), 409, "check-in-held")
    why = (await people.desk_get(f"/v1/reception/visitors/{visitor_id}/hold")).json()
    assert why["entry"] is None and why["held_at"] is not None
    released = await people.desk_post(f"/v1/reception/visitors/{visitor_id}/release")
    assert released.status_code == 200, released.text


async def test_the_watchlist_is_reception_only_and_per_site(
    people: People, factory: Factory, service_app: FastAPI
) -> None:
    entry = await _add(people)
    listed = (await people.desk_get("/v1/reception/watchlist")).json()["entries"]
    assert [e["id"] for e in listed] == [entry["id"]]
    member = await people.host.get("/v1/reception/watchlist", headers=people.host_headers)
    assert_problem(member, 403, "role-forbidden")

    other = await factory.site("AUTRE", name="Autre site")
    await factory.account(other, "R9", name="Rita Autre", pin=PIN, roles=["reception"])
    terminal = await factory.device([other], name="Accueil autre")
    async with device_client(service_app, terminal.key) as desk:
        answer = await sign_in(desk, "R9", PIN, solution="AUTRE")
        assert answer.status_code == 201, answer.text
        headers = bearer(answer.json()["token"])
        seen = (await desk.get("/v1/reception/watchlist", headers=headers)).json()
        assert seen == {"entries": []}
        gone = await desk.delete(f"/v1/reception/watchlist/{entry['id']}", headers=headers)
        assert_problem(gone, 404, "watchlist-entry-unknown")
        hold = await desk.get("/v1/reception/visitors/1/hold", headers=headers)
        assert_problem(hold, 404, "visitor-unknown")
    still = (await people.desk_get("/v1/reception/watchlist")).json()["entries"]
    assert [e["id"] for e in still] == [entry["id"]]


async def test_a_blank_name_or_reason_is_refused(people: People) -> None:
    for body in (
        {**ENTRY, "full_name": "  "},
        {**ENTRY, "reason": ""},
    ):
        refused = await people.desk_post("/v1/reception/watchlist", json=body)
        assert_problem(refused, 422, "validation-failed")
    assert (await people.desk_get("/v1/reception/watchlist")).json() == {"entries": []}


def test_the_admin_commands_add_list_and_remove(acme: Cli) -> None:  # noqa: F811
    assert (
        acme(
            "watchlist",
            "add",
            "acme",
            "--name",
            "Éloïse D'Arc-Dupont",
            "--birth-date",
            "1980-02-03",
            "--reason",
            "Accès interdit",
            "--by",
            "Direction sûreté",
        )
        == 0
    )
    assert "Éloïse D'Arc-Dupont" in acme.out
    assert acme("watchlist", "list", "ACME") == 0
    assert "1980-02-03" in acme.out and "Direction sûreté" in acme.out
    assert acme("watchlist", "add", "acme", "--name", " ", "--reason", "x", "--by", "y") == 2
    assert "--name" in acme.err and "required" in acme.err
    assert acme("watchlist", "remove", "acme", "99") != 0
    assert "no watchlist entry 99" in acme.err
    assert acme("watchlist", "list", "ACME") == 0
    first_id = acme.out.splitlines()[1].split()[0]
    assert acme("watchlist", "remove", "acme", first_id) == 0
    assert acme("watchlist", "list", "ACME") == 0
    assert "empty" in acme.out
