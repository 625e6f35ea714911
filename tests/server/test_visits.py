"""A host's visit requests over HTTP: declare, validate field by field, consult with history,
edit until approval, submit, cancel until check-in, and the transitions the service refuses."""

from __future__ import annotations

import datetime as dt

from kiosk_server.clock import ManualClock
from kiosk_server.models import Site
from tests.factories import Factory
from tests.server.conftest import assert_problem
from tests.server.visits_support import (
    DAY,
    People,
    invitation_token,
    people_fixture,  # noqa: F401 - the `people` fixture
    set_local,
    set_site_settings,
    visit_body,
    visitor,
)


async def test_a_draft_is_saved_submitted_and_shows_its_history(
    people: People, factory: Factory
) -> None:
    draft = await people.create()
    assert draft["state"] == "draft"
    assert draft["visitor_names"] == ["Léa Dupont"]
    assert draft["editable"] and draft["cancellable"]
    assert draft["last_day"] == DAY.isoformat()
    assert await factory.outbox("lea@example.com") == []

    submitted = await people.host_post(f"/v1/me/visits/{draft['id']}/submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["state"] == "requested"

    approved = await people.desk_post(f"/v1/reception/visits/{draft['id']}/approve")
    assert approved.json()["state"] == "approved"
    detail = await people.host.get(f"/v1/me/visits/{draft['id']}", headers=people.host_headers)
    history = detail.json()["history"]
    assert [event["kind"] for event in history] == ["submitted", "approved", "invitation_sent"]
    assert history[0]["by_name"] == "Hélène Girard"
    assert history[1]["by_name"] == "Rémi Accueil"
    assert history[1]["by_device"] == "Accueil"
    assert history[2]["visitor_name"] == "Léa Dupont"
    assert detail.json()["visitors"][0]["invitation_sent_at"] is not None
    assert not detail.json()["editable"]


async def test_validation_names_every_wrong_field(people: People) -> None:
    # What the document itself says (names, an email, plain text): `validation-failed`, every
    # wrong field named, before anything else is looked at.
    malformed = await people.host.post(
        "/v1/me/visits",
        json=visit_body(
            visitors=[visitor(), visitor("", "Bell\x1b[31m")],
            reason=" ",
        ),
        headers=people.host_headers,
    )
    body = assert_problem(malformed, 422, "validation-failed")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {error["field"]: error["message"] for error in errors} == {
        "visitors.1.first_name": "is required",
        "visitors.1.last_name": "must not contain control characters (U+001B)",
        "reason": "is required",
    }
    # What the service judges with the visit's days and window (an email or phone that is not
    # one, a contact to invite, the days, the window): `visit-invalid`, every wrong field named
    # at once.
    impossible = await people.host.post(
        "/v1/me/visits",
        json=visit_body(
            visitors=[
                visitor(email="not-an-email"),
                visitor("Marc", "Petit", email=None, phone=None),
            ],
            first_day=(DAY - dt.timedelta(days=1)).isoformat(),
            last_day=(DAY - dt.timedelta(days=3)).isoformat(),
            arrival_from="15:00",
            arrival_until="14:00",
        ),
        headers=people.host_headers,
    )
    body = assert_problem(impossible, 422, "visit-invalid")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {error["field"] for error in errors} == {
        "visitors.0.email",
        "visitors.1.email",
        "first_day",
        "last_day",
        "arrival_until",
    }
    no_visitor = await people.host.post(
        "/v1/me/visits", json=visit_body(visitors=[]), headers=people.host_headers
    )
    empty = assert_problem(no_visitor, 422, "validation-failed")["errors"]
    assert empty == [{"field": "visitors", "message": "add at least one visitor"}]


async def test_markup_in_names_is_stored_as_given(people: People) -> None:
    created = await people.create(
        visitors=[visitor("[@click=app.quit]Bob[/]", "<b>Tables</b>", company="=HYPERLINK(1)")]
    )
    assert created["visitors"][0]["first_name"] == "[@click=app.quit]Bob[/]"
    assert created["visitors"][0]["last_name"] == "<b>Tables</b>"
    assert created["visitors"][0]["company"] == "=HYPERLINK(1)"


async def test_list_shows_upcoming_first_then_past(people: People, clock: ManualClock) -> None:
    later = await people.create(first_day=(DAY + dt.timedelta(days=5)).isoformat())
    soon = await people.create(first_day=(DAY + dt.timedelta(days=1)).isoformat())
    today = await people.create()
    set_local(clock, DAY + dt.timedelta(days=1), "09:00")
    listing = await people.host.get("/v1/me/visits", headers=people.host_headers)
    assert [item["id"] for item in listing.json()["items"]] == [
        soon["id"],
        later["id"],
        today["id"],
    ]
    assert {item["state"] for item in listing.json()["items"]} == {"draft"}


async def test_another_persons_visit_is_unknown(
    people: People, factory: Factory, site: Site
) -> None:
    created = await people.create()
    other = await people.desk.get(f"/v1/me/visits/{created['id']}", headers=people.desk_headers)
    assert_problem(other, 404, "visit-unknown")


async def test_edit_until_approved_then_refused(people: People) -> None:
    created = await people.create(submit=True)
    edited = await people.host.patch(
        f"/v1/me/visits/{created['id']}",
        json={
            "arrival_from": "15:00",
            "arrival_until": "16:30",
            "visitors": [visitor(), visitor("Marc", "Petit", email="marc@example.com")],
        },
        headers=people.host_headers,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["state"] == "requested"
    assert edited.json()["arrival_until"] == "16:30:00"
    assert edited.json()["visitor_names"] == ["Léa Dupont", "Marc Petit"]
    assert edited.json()["history"][-1]["kind"] == "edited"

    bad = await people.host.patch(
        f"/v1/me/visits/{created['id']}",
        json={"arrival_until": "14:00"},
        headers=people.host_headers,
    )
    assert_problem(bad, 422, "visit-invalid")

    await people.desk_post(f"/v1/reception/visits/{created['id']}/approve")
    late = await people.host.patch(
        f"/v1/me/visits/{created['id']}", json={"reason": "Autre"}, headers=people.host_headers
    )
    assert_problem(late, 409, "visit-not-editable")


async def test_forbidden_transitions(people: People) -> None:
    draft = await people.create()
    assert_problem(
        await people.desk_post(f"/v1/reception/visits/{draft['id']}/approve"),
        409,
        "visit-transition-forbidden",
    )
    await people.host_post(f"/v1/me/visits/{draft['id']}/submit")
    assert_problem(
        await people.host_post(f"/v1/me/visits/{draft['id']}/submit"),
        409,
        "visit-transition-forbidden",
    )
    rejected = await people.desk_post(
        f"/v1/reception/visits/{draft['id']}/reject", json={"reason": "Salle indisponible"}
    )
    assert rejected.json()["state"] == "rejected"
    assert rejected.json()["rejection_reason"] == "Salle indisponible"
    assert_problem(
        await people.desk_post(f"/v1/reception/visits/{draft['id']}/approve"),
        409,
        "visit-transition-forbidden",
    )
    assert_problem(
        await people.host.delete(f"/v1/me/visits/{draft['id']}", headers=people.host_headers),
        409,
        "visit-transition-forbidden",
    )
    # A host approves only walk-ins; reception approves what hosts declare.
    other = await people.create(submit=True)
    assert_problem(
        await people.host_post(f"/v1/me/visits/{other['id']}/approve"),
        409,
        "visit-transition-forbidden",
    )


async def test_site_policy_approves_on_submission(
    people: People, factory: Factory, site: Site
) -> None:
    await set_site_settings(factory, site, visit_approval_required=False)
    created = await people.create(submit=True)
    assert created["state"] == "approved"
    (message,) = await factory.outbox("lea@example.com")
    assert "invitation.png" in message.attachments


async def test_cancel_voids_the_invitation_and_tells_the_visitor(
    people: People, factory: Factory, clock: ManualClock
) -> None:
    approved = await people.approved(
        visitors=[visitor(), visitor("Marc", "Petit", email=None, phone="+33 6 12 34 56 78")]
    )
    token = await invitation_token(factory, approved["visitors"][0]["id"])
    cancelled = await people.host.delete(
        f"/v1/me/visits/{approved['id']}", headers=people.host_headers
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    to_lea = await factory.outbox("lea@example.com")
    assert [m.subject for m in to_lea][-1].startswith("Visite annulée")
    to_marc = await factory.outbox("+33 6 12 34 56 78")
    assert to_marc[-1].channel == "sms"
    assert "annulée" in to_marc[-1].body

    set_local(clock, DAY, "14:10")
    refused = await people.kiosk.post("/v1/visitor-desk/lookup", json={"token": token})
    assert_problem(refused, 410, "invitation-cancelled")


async def test_no_cancel_after_check_in(
    people: People, factory: Factory, clock: ManualClock
) -> None:
    approved = await people.approved()
    set_local(clock, DAY, "14:05")
    visitor_id = approved["visitors"][0]["id"]
    checked = await people.desk_post(f"/v1/reception/visitors/{visitor_id}/check-in")
    assert checked.status_code == 200, checked.text
    refused = await people.host.delete(
        f"/v1/me/visits/{approved['id']}", headers=people.host_headers
    )
    assert_problem(refused, 409, "visit-transition-forbidden")


async def test_reception_role_is_needed(people: People) -> None:
    created = await people.create(submit=True)
    assert_problem(
        await people.host_post(f"/v1/reception/visits/{created['id']}/approve"),
        403,
        "role-forbidden",
    )
    assert_problem(
        await people.host.get("/v1/reception/roll-call", headers=people.host_headers),
        403,
        "role-forbidden",
    )
