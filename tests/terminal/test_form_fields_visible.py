"""The fields of the forms a person fills in stand out from the panel they are on, as the
Web Content Accessibility Guidelines ask of a control's boundary (non-text contrast, 3:1): a
compact field was background 234 on 233, invisible until typed in."""

from __future__ import annotations

from textual.color import Color
from textual.widgets import Input

from kiosk.screens.visit_form import VisitFormScreen
from tests.terminal.conftest import SIZE, KioskFactory, screen_text, settle, type_text
from tests.terminal.visits_ui_support import Staff, sign_in, staff

__all__ = ["staff"]


def luminance(color: Color) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def contrast(one: Color, other: Color) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


async def test_the_visit_forms_fields_stand_out(make_kiosk: KioskFactory, staff: Staff) -> None:
    app = make_kiosk()
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


async def test_the_walk_in_forms_fields_stand_out_and_keep_their_labels(
    make_kiosk: KioskFactory,
) -> None:
    app = make_kiosk()
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
