"""The fields of the forms a person fills in stand out from the panel they are on, as the
Web Content Accessibility Guidelines ask of a control's boundary (non-text contrast, 3:1): a
compact field was background 234 on 233, invisible until typed in."""

from __future__ import annotations

import pytest
from textual.color import Color
from textual.widgets import Input

from kiosk.display import contrast_ratio
from kiosk.screens.visit_form import VisitFormScreen
from kiosk.settings import DisplaySettings
from tests.terminal.conftest import SIZE, KioskFactory, screen_text, settle, type_text
from tests.terminal.visits_ui_support import Staff, sign_in, staff

__all__ = ["staff"]


def contrast(one: Color, other: Color) -> float:
    return contrast_ratio(one.hex[:7], other.hex[:7])


DISPLAYS = [
    pytest.param(DisplaySettings(), id="standard"),
    pytest.param(DisplaySettings(high_contrast=True, large_text=True), id="accessible"),
]
"""The standard display, and the accessible one (F2) with its own colours."""


@pytest.mark.parametrize("display", DISPLAYS)
async def test_the_visit_forms_fields_stand_out(
    make_kiosk: KioskFactory, staff: Staff, display: DisplaySettings
) -> None:
    app = make_kiosk(display=display)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "H1")
        await pilot.click("#visits")
        await settle(pilot)
        await pilot.click("#new-visit")
        await settle(pilot)
        assert isinstance(app.screen, VisitFormScreen)
        fields = list(app.screen.query(Input).results(Input))
        assert fields
        app.screen.set_focus(None)
        await pilot.pause()
        for field in fields:
            around, inside = field.background_colors
            assert contrast(around, inside) >= 3, (field.id, around.hex, inside.hex)
            # ...and what is typed in it still reads (4.5:1 for text).
            text = field.colors[3]
            assert contrast(text, inside) >= 4.5, (field.id, text.hex, inside.hex)


@pytest.mark.parametrize("display", DISPLAYS)
async def test_the_walk_in_forms_fields_stand_out_and_keep_their_labels(
    make_kiosk: KioskFactory, display: DisplaySettings
) -> None:
    app = make_kiosk(display=display)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.click("#visitor")
        await settle(pilot)
        await pilot.click("#visitor-walk-in")
        await settle(pilot)
        fields = list(app.screen.query(Input).results(Input))
        assert len(fields) == 4
        for field in fields:
            around, inside = field.background_colors
            if field.has_focus:
                continue
            assert contrast(around, inside) >= 3, (field.id, around.hex, inside.hex)
        await type_text(pilot, "Paul")
        # The label stays while typing (a placeholder was the only label, and it vanished).
        assert "Votre prénom" in screen_text(app)
        assert all(field.region.bottom <= 24 for field in fields)  # the form fits at 80×24
