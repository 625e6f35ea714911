"""The typed client's visit calls against the real service (ASGI, on a database of its own):
a host declares, edits, submits and cancels; reception approves, checks in and out, lists and
exports the roll call; a visitor checks in and out at the kiosk."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from kiosk.api import KioskClient, ProblemError
from kiosk.api.models import VisitorInput
from kiosk_server.clock import ManualClock
from kiosk_server.models import Site
from tests.conftest import BASE_URL
from tests.factories import EnrolledDevice, Factory

PIN = "246810"
PARIS = ZoneInfo("Europe/Paris")
DAY = dt.date(2026, 11, 2)


def at(clock: ManualClock, time: str) -> None:
    hours, minutes = (int(part) for part in time.split(":"))
    clock.set(dt.datetime.combine(DAY, dt.time(hours, minutes), tzinfo=PARIS).astimezone(dt.UTC))


@pytest.fixture
async def site(factory: Factory) -> Site:
    site = await factory.site("CANTINE", name="Cantine Lumière", settings={"session_minutes": 1440})
    await factory.account(site, "H1", name="Hélène Girard", pin=PIN)
    await factory.account(site, "R1", name="Rémi Accueil", pin=PIN, roles=["reception"])
    return site


@pytest.fixture
async def terminals(factory: Factory, site: Site) -> list[EnrolledDevice]:
    return [await factory.device([site], name=name) for name in ("Bureau", "Accueil", "Hall")]


@pytest.fixture
async def clients(
    service_app: FastAPI, api: httpx.AsyncClient, terminals: list[EnrolledDevice]
) -> AsyncIterator[tuple[KioskClient, KioskClient, KioskClient]]:
    def client(terminal: EnrolledDevice) -> KioskClient:
        transport = httpx.ASGITransport(app=service_app, raise_app_exceptions=False)
        return KioskClient(BASE_URL, terminal.key, transport=transport)

    host, desk, hall = (client(t) for t in terminals)
    async with host, desk, hall:
        yield host, desk, hall


async def test_a_visit_from_request_to_departure(
    clients: tuple[KioskClient, KioskClient, KioskClient], clock: ManualClock
) -> None:
    host, desk, hall = clients
    at(clock, "09:00")
    await host.sign_in("CANTINE", "H1", PIN)
    await desk.sign_in("CANTINE", "R1", PIN)

    with pytest.raises(ProblemError) as refused:
        await host.create_visit(
            [VisitorInput(first_name="Léa", last_name="Dupont", email="nope")],
            first_day=DAY,
            arrival_from=dt.time(14),
            arrival_until=dt.time(15),
            reason="Réunion",
        )
    assert refused.value.code == "visit-invalid"
    assert [e.field for e in refused.value.errors] == ["visitors.0.email"]

    draft = await host.create_visit(
        [VisitorInput(first_name="Léa", last_name="Dupont", company="ACME", email="l@example.com")],
        first_day=DAY,
        arrival_from=dt.time(14),
        arrival_until=dt.time(15),
        reason="Réunion",
    )
    assert draft.state == "draft"
    edited = await host.edit_visit(draft.id, place="Salle 2", arrival_until=dt.time(16))
    assert (edited.place, edited.arrival_until) == ("Salle 2", dt.time(16))
    assert (await host.submit_visit(draft.id)).state == "requested"
    assert [v.id for v in (await host.visits()).items] == [draft.id]

    day = await desk.reception_day(query="acme")
    assert [row.last_name for row in day.expected] == ["Dupont"]
    approved = await desk.approve_visit(draft.id)
    assert approved.state == "approved"
    visitor_id = approved.visitors[0].id

    at(clock, "14:05")
    badge = await desk.reception_check_in(visitor_id)
    assert badge.host_name == "Hélène Girard"
    assert badge.checkout_token not in repr(badge)
    call = await desk.roll_call()
    assert [p.last_name for p in call.people] == ["Dupont"]
    assert "Dupont" in await desk.roll_call_csv()

    seen = await hall.desk_lookup(token=badge.checkout_token, language="en")
    assert seen.action == "check_out"
    left = await hall.desk_check_out(token=badge.checkout_token)
    assert left.last_name == "Dupont"
    history = await host.visit(draft.id)
    assert history.state == "checked_out"
    with pytest.raises(ProblemError) as cancelled:
        await host.cancel_visit(draft.id)
    assert cancelled.value.code == "visit-transition-forbidden"


async def test_walk_in_and_kiosk_check_in(
    clients: tuple[KioskClient, KioskClient, KioskClient], clock: ManualClock
) -> None:
    host, desk, hall = clients
    at(clock, "10:00")
    await host.sign_in("CANTINE", "H1", PIN)
    paul = VisitorInput(first_name="Paul", last_name="Nguyen")
    with pytest.raises(ProblemError) as unknown:
        await hall.desk_walk_in(paul, "Hélène")
    assert unknown.value.code == "host-unknown"
    asked = await hall.desk_walk_in(paul, "hélène girard")
    with pytest.raises(ProblemError) as waiting:
        await hall.desk_lookup(token=asked.invitation_token)
    assert waiting.value.code == "invitation-not-approved"
    await host.approve_walk_in(asked.visit_id)
    badge = await hall.desk_check_in(token=asked.invitation_token, rules_accepted=True)
    assert badge.first_name == "Paul"
    with pytest.raises(ProblemError) as used:
        await hall.desk_check_in(token=asked.invitation_token, rules_accepted=True)
    assert used.value.code == "invitation-used"
    await desk.sign_in("CANTINE", "R1", PIN)
    registered = await desk.reception_walk_in(
        VisitorInput(first_name="Ana", last_name="Lima"), "Hélène Girard"
    )
    rejected = await desk.reject_visit(registered.visit_id, "Pas de rendez-vous")
    assert rejected.rejection_reason == "Pas de rendez-vous"
    again = await desk.visitor_badge(badge.visitor_id)
    assert again.checkout_token == badge.checkout_token
    assert (await desk.reception_check_out(badge.visitor_id)).first_name == "Paul"
