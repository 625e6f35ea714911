"""A visitor without an invitation asks for their host at a kiosk; the host, signed in anywhere,
sees them on home and lets them in or declines, and the visitor's kiosk hears it."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from kiosk.api.client import KioskClient
from kiosk.api.errors import ProblemError
from kiosk.api.models import VisitorInput
from kiosk.screens.home import HomeScreen
from kiosk.screens.visit_detail import VisitDetailScreen
from kiosk_server.models import Site
from tests.conftest import BASE_URL
from tests.factories import Factory
from tests.terminal.conftest import SIZE, KioskFactory, screen_text, settle
from tests.terminal.visits_ui_support import Staff, sign_in, staff

__all__ = ["staff"]


async def visitor_kiosk(service_app: FastAPI, factory: Factory, site: Site) -> KioskClient:
    device = await factory.device([site], name="Hall")
    transport = httpx.ASGITransport(app=service_app, raise_app_exceptions=False)
    return KioskClient(BASE_URL, device.key, transport=transport)


@pytest.mark.parametrize("answer", ["let-in", "decline"])
async def test_the_host_answers_a_walk_in_from_home(
    make_kiosk: KioskFactory,
    staff: Staff,
    service_app: FastAPI,
    factory: Factory,
    site: Site,
    answer: str,
) -> None:
    async with await visitor_kiosk(service_app, factory, site) as hall:
        asked = await hall.desk_walk_in(
            VisitorInput(first_name="Paul", last_name="Nguyen", company="Globex"),
            "Hélène Girard",
        )
        app = make_kiosk()
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(pilot, "H1")
            assert isinstance(app.screen, HomeScreen)
            assert "Paul Nguyen vous demande à la borne d'accueil" in screen_text(app)
            button = "let" if answer == "let-in" else "decline"
            await pilot.click(f"#walk-in-{button}-{asked.visit_id}")
            await settle(pilot)
            text = screen_text(app)
            assert "Paul Nguyen vous demande" not in text
            assert "Un visiteur vous demande" not in text
            if answer == "let-in":
                assert "Paul Nguyen peut entrer" in text
            else:
                assert "Refusé : Paul Nguyen" in text
        # What the kiosk where Paul waits asks every few seconds.
        if answer == "let-in":
            looked = await hall.desk_lookup(token=asked.invitation_token, language="fr")
            assert looked.first_name == "Paul"
        else:
            with pytest.raises(ProblemError) as refused:
                await hall.desk_lookup(token=asked.invitation_token, language="fr")
            assert refused.value.code == "invitation-cancelled"


async def test_the_walk_in_request_itself_offers_let_in_and_decline(
    make_kiosk: KioskFactory,
    staff: Staff,
    service_app: FastAPI,
    factory: Factory,
    site: Site,
) -> None:
    async with await visitor_kiosk(service_app, factory, site) as hall:
        asked = await hall.desk_walk_in(
            VisitorInput(first_name="Paul", last_name="Nguyen"), "Hélène Girard"
        )
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "H1")
        await pilot.click("#visits")
        await settle(pilot)
        await pilot.press("enter")  # the newest request: Paul's
        await settle(pilot)
        assert isinstance(app.screen, VisitDetailScreen)
        assert not app.screen.query("#edit")
        await pilot.click("#let-in")
        await settle(pilot)
        assert "Le visiteur peut entrer" in screen_text(app)
        assert "Approuvée" in screen_text(app)
    assert (await staff.host.visit(asked.visit_id)).state == "approved"


async def test_a_notice_is_shown_in_the_language_of_the_kiosk(
    make_kiosk: KioskFactory, staff: Staff
) -> None:
    """The site is French, so the service wrote "Votre visiteur est arrivé"; the person reads
    the kiosk in English."""
    await staff.visit("Léa", "Dupont", "ACME", approve=True, check_in=True)
    app = make_kiosk(language="en")
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "H1")
        text = screen_text(app)
        assert "Your visitor has arrived" in text
        assert "Votre visiteur" not in text
