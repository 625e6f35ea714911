"""Visitors at the kiosk (a terminal, nobody signed in): the invitation QR or the code and last
name, only on its site, day and window; check-in with the rules accepted, the host told, the
audit log written; check-out; replays, cancellations, walk-ins and throttling."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from sqlalchemy import select

from kiosk_server.clock import ManualClock
from kiosk_server.models import Notification, Site, VisitVisitor
from tests.conftest import device_client
from tests.factories import Factory
from tests.server.conftest import PIN, assert_problem
from tests.server.visits_support import (
    DAY,
    People,
    audit_rows,
    invitation_code,
    invitation_token,
    people_fixture,  # noqa: F401 - the `people` fixture
    set_local,
    set_site_settings,
    visitor,
)


async def test_check_in_and_out_with_the_qr(
    people: People, factory: Factory, clock: ManualClock
) -> None:
    approved = await people.approved()
    visitor_id = approved["visitors"][0]["id"]
    token = await invitation_token(factory, visitor_id)
    set_local(clock, DAY, "13:45")

    seen = await people.kiosk.post(
        "/v1/visitor-desk/lookup", json={"token": token, "language": "en"}
    )
    assert seen.status_code == 200, seen.text
    shown = seen.json()
    assert shown["action"] == "check_in"
    assert (shown["first_name"], shown["last_name"], shown["company"]) == ("Léa", "Dupont", "ACME")
    assert shown["host_name"] == "Hélène Girard"
    assert shown["place"] == "Bâtiment B, salle 2"
    assert (shown["arrival_from"], shown["arrival_until"]) == ("14:00:00", "15:00:00")
    assert shown["rules_language"] == "en"
    assert "visitor badge" in shown["rules"]

    refused = await people.kiosk.post(
        "/v1/visitor-desk/check-in", json={"token": token, "rules_accepted": False}
    )
    assert_problem(refused, 422, "rules-not-accepted")

    checked = await people.kiosk.post(
        "/v1/visitor-desk/check-in", json={"token": token, "rules_accepted": True}
    )
    assert checked.status_code == 200, checked.text
    badge = checked.json()
    assert badge["host_name"] == "Hélène Girard"
    assert badge["day"] == DAY.isoformat()
    assert badge["checkout_token"] == token

    async with factory.session_factory() as session:
        row = await session.get(VisitVisitor, visitor_id)
        assert row is not None and row.rules_accepted_at is not None
        assert row.rules_language == "fr"
        notices = (await session.scalars(select(Notification).order_by(Notification.id))).all()
    # Reception's approval told the host first; then their visitor's arrival.
    assert [notice.kind for notice in notices] == ["visit_decided", "visitor_arrived"]
    notice = notices[-1]
    assert "Léa Dupont (ACME)" in notice.body
    to_host = await factory.outbox("helene@example.com")
    assert to_host[-1].subject == "Votre visiteur est arrivé"

    replay = await people.kiosk.post(
        "/v1/visitor-desk/check-in", json={"token": token, "rules_accepted": True}
    )
    assert_problem(replay, 409, "invitation-used")

    set_local(clock, DAY, "17:30")
    leaving = await people.kiosk.post("/v1/visitor-desk/lookup", json={"token": token})
    assert leaving.json()["action"] == "check_out"
    out = await people.kiosk.post("/v1/visitor-desk/check-out", json={"token": token})
    assert out.status_code == 200, out.text
    assert_problem(
        await people.kiosk.post("/v1/visitor-desk/check-out", json={"token": token}),
        409,
        "invitation-used",
    )
    assert_problem(
        await people.kiosk.post("/v1/visitor-desk/lookup", json={"token": token}),
        409,
        "invitation-used",
    )

    detail = await people.host.get(f"/v1/me/visits/{approved['id']}", headers=people.host_headers)
    assert detail.json()["state"] == "checked_out"
    kinds = [event["kind"] for event in detail.json()["history"]]
    assert kinds[-2:] == ["checked_in", "checked_out"]
    assert detail.json()["history"][-2]["by_device"] == "Borne hall"
    actions = [(row.action, row.subject) for row in await audit_rows(factory)]
    assert actions == [
        ("visit.approved", f"visit:{approved['id']}"),
        ("visitor.checked_in", f"visitor:{visitor_id}"),
        ("visitor.checked_out", f"visitor:{visitor_id}"),
    ]


async def test_a_check_in_or_out_retried_with_its_key_gets_the_same_answer(
    people: People, factory: Factory, clock: ManualClock
) -> None:
    approved = await people.approved()
    token = await invitation_token(factory, approved["visitors"][0]["id"])
    set_local(clock, DAY, "14:05")
    body = {"token": token, "rules_accepted": True}
    key = {"Idempotency-Key": "check-in-1"}
    first = await people.kiosk.post("/v1/visitor-desk/check-in", json=body, headers=key)
    assert first.status_code == 200, first.text
    # Its answer lost on the way, the kiosk sends the same check-in with the same key.
    retry = await people.kiosk.post("/v1/visitor-desk/check-in", json=body, headers=key)
    assert retry.status_code == 200, retry.text
    assert retry.json() == first.json()
    assert retry.headers["Idempotency-Replayed"] == "true"
    # Another check-in with this invitation (another key, or none) is the invitation reused.
    again = {"Idempotency-Key": "check-in-2"}
    assert_problem(
        await people.kiosk.post("/v1/visitor-desk/check-in", json=body, headers=again),
        409,
        "invitation-used",
    )
    assert_problem(
        await people.kiosk.post("/v1/visitor-desk/check-in", json=body), 409, "invitation-used"
    )
    async with factory.session_factory() as session:
        arrivals = await session.scalars(
            select(Notification).where(Notification.kind == "visitor_arrived")
        )
        assert len(arrivals.all()) == 1
    actions = [row.action for row in await audit_rows(factory)]
    assert actions.count("visitor.checked_in") == 1

    # Leaving, the same: the check-out's answer lost, its retry with the key gets it again.
    set_local(clock, DAY, "17:30")
    key = {"Idempotency-Key": "check-out-1"}
    body = {"token": token}
    out = await people.kiosk.post("/v1/visitor-desk/check-out", json=body, headers=key)
    assert out.status_code == 200, out.text
    again_out = await people.kiosk.post("/v1/visitor-desk/check-out", json=body, headers=key)
    assert again_out.json() == out.json()
    assert again_out.headers["Idempotency-Replayed"] == "true"
    actions = [row.action for row in await audit_rows(factory)]
    assert actions.count("visitor.checked_out") == 1


async def test_code_and_last_name_ignore_case_and_accents(
    people: People, factory: Factory, clock: ManualClock
) -> None:
    await people.approved(visitors=[visitor("Zoé", "Lefèvre", email="zoe@example.com")])
    code = await invitation_code(factory, "zoe@example.com")
    set_local(clock, DAY, "14:30")
    wrong_name = await people.kiosk.post(
        "/v1/visitor-desk/lookup", json={"code": code, "last_name": "Martin"}
    )
    assert_problem(wrong_name, 404, "invitation-unknown")
    typed = f"{code[:3].lower()} {code[3:]}"
    checked = await people.kiosk.post(
        "/v1/visitor-desk/check-in",
        json={"code": typed, "last_name": "  LEFEVRE ", "rules_accepted": True},
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["first_name"] == "Zoé"
    out = await people.kiosk.post(
        "/v1/visitor-desk/check-out", json={"code": code, "last_name": "lefèvre"}
    )
    assert out.status_code == 200, out.text


async def test_an_sms_invitation_carries_the_code(
    people: People, factory: Factory, clock: ManualClock
) -> None:
    await people.approved(visitors=[visitor("Marc", "Petit", email=None, phone="+33612345678")])
    (sms,) = await factory.outbox("+33612345678")
    assert sms.channel == "sms"
    assert "Hélène Girard" in sms.body
    code = await invitation_code(factory, "+33612345678")
    set_local(clock, DAY, "14:00")
    seen = await people.kiosk.post(
        "/v1/visitor-desk/lookup", json={"code": code, "last_name": "petit"}
    )
    assert seen.status_code == 200, seen.text


async def test_only_within_the_window_and_margin(
    people: People, factory: Factory, clock: ManualClock
) -> None:
    approved = await people.approved()
    token = await invitation_token(factory, approved["visitors"][0]["id"])

    async def look() -> tuple[int, str]:
        answer = await people.kiosk.post("/v1/visitor-desk/lookup", json={"token": token})
        return answer.status_code, answer.json().get("code", "ok")

    set_local(clock, DAY, "13:29")
    assert await look() == (409, "invitation-not-today")
    set_local(clock, DAY, "13:30")
    assert await look() == (200, "ok")
    set_local(clock, DAY, "15:30")
    assert await look() == (200, "ok")
    set_local(clock, DAY, "15:31")
    assert await look() == (410, "invitation-expired")
    detail = await people.host.get(f"/v1/me/visits/{approved['id']}", headers=people.host_headers)
    assert detail.json()["state"] == "expired"


async def test_a_token_of_another_day(people: People, factory: Factory, clock: ManualClock) -> None:
    tomorrow = DAY + dt.timedelta(days=1)
    approved = await people.approved(
        first_day=tomorrow.isoformat(), last_day=(tomorrow + dt.timedelta(days=1)).isoformat()
    )
    token = await invitation_token(factory, approved["visitors"][0]["id"])
    set_local(clock, DAY, "14:10")
    refused = await people.kiosk.post("/v1/visitor-desk/lookup", json={"token": token})
    assert_problem(refused, 409, "invitation-not-today")
    set_local(clock, tomorrow + dt.timedelta(days=1), "14:10")
    first = await people.kiosk.post(
        "/v1/visitor-desk/check-in", json={"token": token, "rules_accepted": True}
    )
    assert first.status_code == 200, first.text


async def test_a_token_of_another_site(
    people: People, factory: Factory, clock: ManualClock, service_app: FastAPI
) -> None:
    approved = await people.approved()
    token = await invitation_token(factory, approved["visitors"][0]["id"])
    other_site = await factory.site("USINE", name="Usine Nord")
    elsewhere = await factory.device([other_site], name="Borne usine")
    set_local(clock, DAY, "14:10")
    async with device_client(service_app, elsewhere.key) as kiosk:
        refused = await kiosk.post("/v1/visitor-desk/lookup", json={"token": token})
        assert_problem(refused, 403, "invitation-other-site")
        code = await invitation_code(factory, "lea@example.com")
        by_code = await kiosk.post(
            "/v1/visitor-desk/lookup", json={"code": code, "last_name": "Dupont"}
        )
        assert_problem(by_code, 404, "invitation-unknown")


async def test_garbage_and_other_kinds_are_unknown(people: People) -> None:
    for token in ("hello", "C1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "V1" + "A" * 42):
        refused = await people.kiosk.post("/v1/visitor-desk/lookup", json={"token": token})
        assert_problem(refused, 404, "invitation-unknown")
    nothing = await people.kiosk.post("/v1/visitor-desk/lookup", json={"language": "fr"})
    assert_problem(nothing, 422, "validation-failed")


async def test_wrong_codes_throttle_the_terminal_only(
    people: People, factory: Factory, site: Site, clock: ManualClock, service_app: FastAPI
) -> None:
    await set_site_settings(factory, site, terminal_throttle_failures=3)
    await people.approved()
    code = await invitation_code(factory, "lea@example.com")
    set_local(clock, DAY, "14:10")
    for wrong in ("ABCDEF", "GHJKLM", "NPQRST"):
        refused = await people.kiosk.post(
            "/v1/visitor-desk/lookup", json={"code": wrong, "last_name": "Dupont"}
        )
        assert_problem(refused, 404, "invitation-unknown")
    slowed = await people.kiosk.post(
        "/v1/visitor-desk/lookup", json={"code": code, "last_name": "Dupont"}
    )
    body = assert_problem(slowed, 429, "terminal-throttled")
    assert isinstance(body["retry_after"], int)
    assert code not in slowed.text
    other = await factory.device([site], name="Borne parking")
    async with device_client(service_app, other.key) as kiosk:
        fine = await kiosk.post(
            "/v1/visitor-desk/lookup", json={"code": code, "last_name": "Dupont"}
        )
        assert fine.status_code == 200, fine.text
    clock.advance(minutes=20)
    again = await people.kiosk.post(
        "/v1/visitor-desk/lookup", json={"code": code, "last_name": "Dupont"}
    )
    assert again.status_code == 200, again.text


async def test_a_walk_in_waits_for_approval_then_checks_in(
    people: People, factory: Factory, site: Site, clock: ManualClock
) -> None:
    set_local(clock, DAY, "11:00")
    unknown = await people.kiosk.post(
        "/v1/visitor-desk/walk-ins",
        json={**visitor("Paul", "Nguyen", email=None), "host_full_name": "Hélène"},
    )
    assert_problem(unknown, 404, "host-unknown")
    assert "Girard" not in unknown.text

    asked = await people.kiosk.post(
        "/v1/visitor-desk/walk-ins",
        json={**visitor("Paul", "Nguyen", email=None), "host_full_name": " helene   GIRARD "},
    )
    assert asked.status_code == 201, asked.text
    walk_in = asked.json()
    assert walk_in["state"] == "requested"
    assert walk_in["host_name"] == "Hélène Girard"
    assert walk_in["wait_seconds"] == 180  # the site's walk_in_wait_seconds, by default
    token = walk_in["invitation_token"]
    waiting = await people.kiosk.post("/v1/visitor-desk/lookup", json={"token": token})
    assert_problem(waiting, 409, "invitation-not-approved")
    async with factory.session_factory() as session:
        (notice,) = (await session.scalars(select(Notification))).all()
    assert notice.kind == "visit_request"

    approved = await people.host_post(f"/v1/me/visits/{walk_in['visit_id']}/approve")
    assert approved.status_code == 200, approved.text
    checked = await people.kiosk.post(
        "/v1/visitor-desk/check-in", json={"token": token, "rules_accepted": True}
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["first_name"] == "Paul"


async def test_the_host_declines_a_walk_in_and_the_visitor_is_told(
    people: People, clock: ManualClock
) -> None:
    set_local(clock, DAY, "11:00")
    asked = await people.kiosk.post(
        "/v1/visitor-desk/walk-ins",
        json={**visitor("Paul", "Nguyen", email=None), "host_full_name": "Hélène Girard"},
    )
    assert asked.status_code == 201, asked.text
    walk_in = asked.json()
    declined = await people.host_post(f"/v1/me/visits/{walk_in['visit_id']}/decline")
    assert declined.status_code == 200, declined.text
    assert declined.json()["state"] == "rejected"
    assert declined.json()["history"][-1]["kind"] == "rejected"
    # The kiosk where the visitor waits learns it is over (and checks nobody in).
    told = await people.kiosk.post(
        "/v1/visitor-desk/lookup", json={"token": walk_in["invitation_token"]}
    )
    assert told.status_code in (404, 409, 410), told.text
    assert told.json()["code"] == "invitation-cancelled"
    # Only walk-ins: what the host declared is reception's to decide.
    declared = await people.create(submit=True)
    assert_problem(
        await people.host_post(f"/v1/me/visits/{declared['id']}/decline"),
        409,
        "visit-transition-forbidden",
    )


async def test_several_people_with_the_hosts_name(
    people: People, factory: Factory, site: Site
) -> None:
    await factory.account(site, "H2", name="Helene Girard", pin=PIN)
    asked = await people.kiosk.post(
        "/v1/visitor-desk/walk-ins",
        json={**visitor("Paul", "Nguyen"), "host_full_name": "Hélène Girard"},
    )
    assert_problem(asked, 409, "host-ambiguous")


async def test_a_visitor_finds_their_host_by_the_first_letters_names_only(
    people: People, factory: Factory, site: Site
) -> None:
    for number, name in enumerate(
        (
            "Marc Girardin",
            "Margaux Dupré",
            "Martine Roux",
            "Marius Blanc",
            "Maryse Petit",
            "Omar Martel",
        )
    ):
        await factory.account(site, f"M{number}", name=name, email=f"m{number}@example.com")
    await factory.account(site, "B1", name="Hélène Bloquée", status="blocked")
    elsewhere = await factory.site("AUTRE", name="Autre site")
    await factory.account(elsewhere, "H1", name="Hélène Ailleurs")

    async def search(typed: str) -> dict[str, object]:
        answer = await people.kiosk.get("/v1/visitor-desk/hosts", params={"q": typed})
        assert answer.status_code == 200, answer.text
        found: dict[str, object] = answer.json()
        return found

    # Case, accents and word order do not matter; every typed word begins a word of the name.
    assert await search("hel") == {"names": ["Hélène Girard"], "more": False}
    assert await search("GIR hél") == {"names": ["Hélène Girard"], "more": False}
    assert await search("gira") == {"names": ["Hélène Girard", "Marc Girardin"], "more": False}
    # Nobody blocked, nobody of another site; names only.
    assert await search("ailleurs") == {"names": [], "more": False}
    assert await search("bloq") == {"names": [], "more": False}
    # Fewer than three letters lists nobody; six matches show five and say there are more.
    assert await search("ma") == {"names": [], "more": False}
    many = await search("mar")
    assert many["more"] is True
    assert many["names"] == [
        "Marc Girardin",
        "Margaux Dupré",
        "Marius Blanc",
        "Martine Roux",
        "Maryse Petit",
    ]
    # Markup, escapes and over-long text are searched for as text, or refused with a problem.
    assert await search("[b]mar[/b]") == {"names": [], "more": False}
    too_long = await people.kiosk.get("/v1/visitor-desk/hosts", params={"q": "m" * 101})
    assert_problem(too_long, 422, "validation-failed")


async def test_a_site_may_keep_its_people_unlisted(
    people: People, factory: Factory, site: Site
) -> None:
    await set_site_settings(factory, site, walk_in_host_search=False)
    answer = await people.kiosk.get("/v1/visitor-desk/hosts", params={"q": "hélène"})
    assert_problem(answer, 403, "host-search-off")
    # The exact full name still works.
    asked = await people.kiosk.post(
        "/v1/visitor-desk/walk-ins",
        json={**visitor("Paul", "Nguyen", email=None), "host_full_name": "Hélène Girard"},
    )
    assert asked.status_code == 201, asked.text


async def test_a_throttled_terminal_lists_nobody(
    people: People, factory: Factory, site: Site
) -> None:
    await set_site_settings(factory, site, terminal_throttle_failures=2)
    for guess in ("Jean Inconnu", "Anne Inconnue", "Luc Inconnu"):
        await people.kiosk.post(
            "/v1/visitor-desk/walk-ins",
            json={**visitor("Paul", "Nguyen", email=None), "host_full_name": guess},
        )
    answer = await people.kiosk.get("/v1/visitor-desk/hosts", params={"q": "hélène"})
    assert_problem(answer, 429, "terminal-throttled")
