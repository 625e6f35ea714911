"""The visitor badge on screen fits the kiosk's smallest terminal (80×24) and a kiosk size
(100×30): the whole check-out QR, quiet zone included, and beside or around it the visitor's
name, the host, the date and the line that says to scan it when leaving. Read back from what the
compositor would send to the terminal, as a person (and a scanner) would see it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from rich.style import Style
from textual.strip import Strip

from kiosk.app import KioskApp
from kiosk.badge import QUIET_ZONE, lines_to_modules, matrix_size
from kiosk.screens.visitor_badge import VisitorBadgeScreen
from kiosk.settings import PrinterSettings
from kiosk.widgets.qr_view import QrView
from kiosk_server.clock import ManualClock
from tests.factories import Factory
from tests.server.visits_support import (
    DAY,
    People,
    invitation_code,
    invitation_token,
    people_fixture,  # noqa: F401 - the `people` fixture
    set_local,
    visitor,
)
from tests.terminal.conftest import KioskFactory
from tests.terminal.test_visitor_checkin import accept_and_check_in, type_code

WHITE = "#ffffff"


def _is_qr_cell(style: Style | None) -> bool:
    # The QR (modules and quiet zone) is the only thing drawn on a fixed white ground.
    if style is None or style.bgcolor is None:
        return False
    return style.bgcolor.get_truecolor().hex.lower() == WHITE


def screen_lines(app: KioskApp) -> list[str]:
    """The screen as the terminal would show it, one string a row."""
    return [strip.text for strip in _strips(app)]


def _strips(app: KioskApp) -> list[Strip]:
    # What the compositor sends to the terminal (Textual is pinned: this private attribute is
    # stable for us). Anything cropped by a container or by the screen's edge is not in it.
    return app.screen._compositor.render_strips()


def qr_on_screen(app: KioskApp) -> tuple[int, int, list[str]]:
    """The QR cells as drawn on screen: (left column, top row, lines)."""
    found: list[tuple[int, int, str]] = []
    for y, strip in enumerate(_strips(app)):
        x = 0
        cells: list[str] = []
        left: int | None = None
        for segment in strip:
            if _is_qr_cell(segment.style):
                if left is None:
                    left = x
                elif left + len("".join(cells)) != x:
                    raise AssertionError(f"row {y}: the QR is broken in two")
                cells.append(segment.text)
            x += segment.cell_length
        if left is not None:
            found.append((left, y, "".join(cells)))
    assert found, "no QR on screen"
    lefts = {left for left, _y, _line in found}
    assert len(lefts) == 1, f"QR rows do not line up: {sorted(lefts)}"
    rows = [y for _left, y, _line in found]
    assert rows == list(range(rows[0], rows[0] + len(rows))), "QR rows are not contiguous"
    return lefts.pop(), rows[0], [line for _left, _y, line in found]


def decode(lines: Sequence[str]) -> list[str]:
    """Read the drawn QR as a scanner would (zxing-cpp on a rasterised picture)."""
    zxingcpp = pytest.importorskip("zxingcpp")
    np = pytest.importorskip("numpy")
    modules = lines_to_modules(lines)
    picture = np.array([[0 if dark else 255 for dark in row] for row in modules], dtype=np.uint8)
    picture = np.kron(picture, np.ones((4, 4), dtype=np.uint8))
    return [result.text for result in zxingcpp.read_barcodes(picture)]


LONG_FIRST_NAME = "Marie-Alexandrine Bénédicte Éléonore"
LONG_COMPANY = "Compagnie Internationale des Wagons-Lits et du Tourisme"


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
@pytest.mark.parametrize(
    ("printer", "names"),
    [("none", "short"), ("failed", "short"), ("failed", "long")],
)
async def test_the_badge_on_screen_fits_with_its_whole_qr_and_details(
    make_kiosk: KioskFactory,
    people: People,
    factory: Factory,
    clock: ManualClock,
    tmp_path: Path,
    size: tuple[int, int],
    printer: str,
    names: str,
) -> None:
    if names == "long":
        approved = await people.approved(
            visitors=[visitor(LONG_FIRST_NAME, "Dupont", company=LONG_COMPANY)]
        )
        first_name = LONG_FIRST_NAME.split()[0]
    else:
        approved = await people.approved()
        first_name = "Léa Dupont"
    token = await invitation_token(factory, approved["visitors"][0]["id"])
    code = await invitation_code(factory, "lea@example.com")
    set_local(clock, DAY, "14:05")
    overrides: dict[str, object] = {}
    if printer == "failed":
        # Unplugged: the printer's message is shown as well, the tallest case.
        overrides["printer"] = PrinterSettings(kind="file", path=tmp_path / "gone" / "lp0")
    app = make_kiosk(**overrides)
    async with app.run_test(size=size) as pilot:
        await type_code(pilot, code, "Dupont")
        await accept_and_check_in(pilot)
        assert isinstance(app.screen, VisitorBadgeScreen)
        assert app.screen.query_one(QrView).payload == token
        await pilot.pause()
        shown = screen_lines(app)
        text = "\n".join(shown)

        left, top, lines = qr_on_screen(app)
        modules = matrix_size(app.screen.query_one(QrView)._version, quiet=QUIET_ZONE)
        # All of it: every module and the quiet zone on all four sides.
        assert len(lines) == (modules + 1) // 2
        assert {len(line) for line in lines} == {modules}
        assert lines[0].strip() == lines[1].strip() == ""
        assert all(line[:QUIET_ZONE] == line[-QUIET_ZONE:] == " " * QUIET_ZONE for line in lines)
        assert left + modules <= size[0] and top + len(lines) <= size[1]
        assert decode(lines) == [token]

        # The details a person reads, on screen and not under the QR (a name too long for the
        # column beside the QR at 80 columns is cut with an ellipsis, on its one line).
        for expected in (first_name, "Hélène Girard", "2 novembre 2026", "en partant"):
            assert expected in text, f"{expected!r} not on screen at {size}"
        finish = app.screen.query_one("#finish")
        assert finish.region.bottom <= size[1]
        if printer == "failed":
            assert "Le badge n'a pas pu être imprimé" in text

        # The layout follows the terminal when it is resized.
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert not app.screen.has_class("-compact")
        assert decode(qr_on_screen(app)[2]) == [token]
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.screen.has_class("-compact")
        left, top, lines = qr_on_screen(app)
        assert decode(lines) == [token] and top + len(lines) <= 24
        assert app.screen.query_one("#finish").region.bottom <= 24
