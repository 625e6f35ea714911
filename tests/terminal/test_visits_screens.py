"""A host's visit requests on the terminal, against the real service: declare (with errors
shown next to their fields first), save as draft, edit, validate, and delete another; markup in
a visitor's name stays plain text."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from kiosk.screens.visit_cancel import ConfirmCancelVisitScreen
from kiosk.screens.visit_detail import VisitDetailScreen
from kiosk.screens.visit_form import VisitFormScreen
from kiosk.screens.visits import VisitsScreen
from tests.terminal.conftest import SIZE, KioskFactory, screen_text, settle, type_text
from tests.terminal.visits_ui_support import Staff, sign_in, staff

__all__ = ["staff"]


async def fill(pilot: Pilot[Any], field: str, text: str) -> None:
    box = pilot.app.screen.query_one(f"#{field}", Input)
    box.value = ""
    box.focus()
    await type_text(pilot, text)


def error_next_to(pilot: Pilot[Any], field: str) -> str:
    return str(pilot.app.screen.query_one(f"#error-{field}", Static).render())


async def open_visits(pilot: Pilot[Any]) -> None:
    await sign_in(pilot, "H1")
    await pilot.click("#visits")
    await settle(pilot)
    assert isinstance(pilot.app.screen, VisitsScreen)


async def test_declare_edit_validate(make_kiosk: KioskFactory, staff: Staff) -> None:
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await open_visits(pilot)
        assert "Aucune demande de visite" in str(
            app.screen.query_one(OptionList).get_option_at_index(0).prompt
        )
        await pilot.click("#new-visit")
        await settle(pilot)
        assert isinstance(app.screen, VisitFormScreen)
        await fill(pilot, "visitors-0-first_name", "Léa")
        await fill(pilot, "visitors-0-last_name", "Dupont")
        await fill(pilot, "visitors-0-company", "ACME")
        await fill(pilot, "visitors-0-email", "pas-un-email")
        await fill(pilot, "first_day", "01/11/2026")  # the day before the service's today
        await fill(pilot, "arrival_from", "14:00")
        await fill(pilot, "arrival_until", "15h")
        await fill(pilot, "reason", "Réunion projet")
        await pilot.click("#save-draft")
        await settle(pilot)
        assert isinstance(app.screen, VisitFormScreen)
        assert error_next_to(pilot, "first_day") == "Cette date est passée."
        assert error_next_to(pilot, "visitors-0-email") == "Ce n'est pas une adresse e-mail."
        assert error_next_to(pilot, "reason") == ""

        await fill(pilot, "visitors-0-email", "lea@example.com")
        await fill(pilot, "first_day", "03/11/2026")
        await pilot.click("#save-draft")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, VisitDetailScreen)
        assert "Brouillon" in screen_text(app)
        assert "Léa Dupont (ACME) · lea@example.com" in screen_text(app)
        assert detail.visit is not None
        visit_id = detail.visit.id

        await pilot.click("#edit")
        await settle(pilot)
        assert isinstance(app.screen, VisitFormScreen)
        assert app.screen.query_one("#first_day", Input).value == "03/11/2026"
        await fill(pilot, "reason", "Audit qualité")
        await pilot.click("#save")
        await settle(pilot)
        assert isinstance(app.screen, VisitDetailScreen)
        assert "Audit qualité" in screen_text(app)

        await pilot.click("#validate")
        await settle(pilot)
        assert "En attente d'approbation" in screen_text(app)
        assert "Envoyée" in screen_text(app)  # the history says it was submitted

        await pilot.click("#back")
        await settle(pilot)
        assert isinstance(app.screen, VisitsScreen)
        assert "En attente d'approbation" in str(
            app.screen.query_one(OptionList).get_option_at_index(0).prompt
        )
    served = await staff.host.visit(visit_id)
    assert (served.state, served.reason) == ("requested", "Audit qualité")
    assert served.first_day.isoformat() == "2026-11-03"


async def test_delete_a_request_after_confirming(make_kiosk: KioskFactory, staff: Staff) -> None:
    visit = await staff.visit("[b]Marc[/b]", "Durand", "[@click=app.quit]X[/]", submit=False)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await open_visits(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, VisitDetailScreen)
        # Markup from the service is shown as it was typed, never interpreted.
        assert "[b]Marc[/b] Durand ([@click=app.quit]X[/])" in screen_text(app)
        await pilot.click("#delete")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmCancelVisitScreen)
        await pilot.click("#delete")
        await settle(pilot)
        assert isinstance(app.screen, VisitDetailScreen)
        assert "La visite est supprimée" in screen_text(app)
        assert "Annulée" in screen_text(app)
    assert (await staff.host.visit(visit.id)).state == "cancelled"


async def test_a_day_that_does_not_exist_is_said_so(make_kiosk: KioskFactory, staff: Staff) -> None:
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await open_visits(pilot)
        await pilot.click("#new-visit")
        await settle(pilot)
        assert isinstance(app.screen, VisitFormScreen)
        await fill(pilot, "first_day", "31/02/2026")
        await fill(pilot, "last_day", "le 3 mars")
        await pilot.click("#save-draft")
        await settle(pilot)
        assert error_next_to(pilot, "first_day") == "Ce jour n'existe pas."
        assert error_next_to(pilot, "last_day") == "Écrivez la date sous la forme JJ/MM/AAAA."
        # Every wrong field at once: the empty ones too, not in a second round.
        for field in ("visitors-0-first_name", "visitors-0-last_name", "reason"):
            assert error_next_to(pilot, field) == "Obligatoire."
        assert error_next_to(pilot, "visitors-0-company") == ""
