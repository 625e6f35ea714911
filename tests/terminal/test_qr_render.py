"""The badge QR drawn with half blocks: the right modules, the right colours, and it still reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
import segno
from rich.color import Color
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widgets import Label

from kiosk.badge import best_scale, lines_to_modules, qr_lines, render_qr, text_size
from kiosk.widgets.qr_view import QrView
from kiosk_server.tokens import (
    current_step,
    make_badge_token,
    new_badge_secret,
    parse_badge_token,
    verify_badge_token,
)

NOW = dt.datetime(2026, 11, 2, 9, 0, 10, tzinfo=dt.UTC)
SECRET = new_badge_secret()
TOKEN = make_badge_token(site_id=1, account_id=1234, secret=SECRET, step=current_step(NOW))
HALF_BLOCKS = {" ", "\u2580", "\u2584", "\u2588"}


def _segno_modules(payload: str, quiet: int = 4) -> list[list[bool]]:
    qr = segno.make(payload, error="m", micro=False)
    return [[bool(m) for m in row] for row in qr.matrix_iter(scale=1, border=quiet)]


def _downscale(modules: list[list[bool]], scale: int, size: int) -> list[list[bool]]:
    return [[modules[y * scale][x * scale] for x in range(size)] for y in range(size)]


def _decode(modules: Sequence[Sequence[bool]]) -> list[str]:
    """Reads the QR out of a module picture with zxing-cpp, as a scanner would."""
    zxingcpp = pytest.importorskip("zxingcpp")
    np = pytest.importorskip("numpy")
    picture = np.array([[0 if dark else 255 for dark in row] for row in modules], dtype=np.uint8)
    picture = np.kron(picture, np.ones((6, 6), dtype=np.uint8))  # 6 pixels a module
    return [result.text for result in zxingcpp.read_barcodes(picture)]


def _service_accepts(text: str) -> None:
    verify_badge_token(parse_badge_token(text), secret=SECRET, now_step=current_step(NOW))


def test_badge_qr_fits_80x24_with_quiet_zone() -> None:
    drawn = render_qr(TOKEN)
    assert drawn.version == 2
    assert (drawn.width, drawn.height) == (33, 17)  # 25 modules + 2 × 4 quiet, two per row
    assert set("".join(drawn.lines)) <= HALF_BLOCKS
    assert drawn.lines[0].strip() == drawn.lines[1].strip() == ""  # the quiet zone above
    assert all(line[:4] == line[-4:] == "    " for line in drawn.lines)  # ...and beside


@pytest.mark.parametrize("scale", [1, 2, 3])
def test_lines_hold_exactly_the_modules(scale: int) -> None:
    expected = _segno_modules(TOKEN)
    size = len(expected)
    lines = qr_lines(TOKEN, scale=scale)
    assert (len(lines[0]), len(lines)) == text_size(size, scale)
    modules = lines_to_modules(lines)
    # An odd number of half rows is completed by light ones, never cut short.
    assert len(modules) - size * scale in (0, 1)
    assert not any(module for row in modules[size * scale :] for module in row)
    assert _downscale(modules, scale, size) == expected


def test_best_scale() -> None:
    assert best_scale(33, 80, 24) == 1
    assert best_scale(33, 120, 40) == 2
    assert best_scale(33, 200, 60) == 3
    assert best_scale(33, 32, 24) == 0


@pytest.mark.parametrize("scale", [1, 2])
def test_drawn_lines_decode_back_to_an_accepted_token(scale: int) -> None:
    assert _decode(lines_to_modules(qr_lines(TOKEN, scale=scale))) == [TOKEN]
    _service_accepts(TOKEN)


class BadgeApp(App[None]):
    """Roughly the badge screen: name, QR, countdown."""

    def __init__(self, theme: str) -> None:
        super().__init__()
        self._theme_name = theme

    def compose(self) -> ComposeResult:
        yield Label("Ada Lovelace — Demo site", markup=False)
        yield QrView(TOKEN)
        yield Label("Nouveau code dans 20 s", markup=False)

    def on_mount(self) -> None:
        self.theme = self._theme_name


def _screen_strips(app: App[None]) -> list[Strip]:
    # What the compositor would send to the terminal (Textual is pinned, so this private
    # attribute is stable for us).
    return app.screen._compositor.render_strips()


def _cell_colours(strip: Strip, x: int) -> tuple[Color | None, Color | None]:
    offset = 0
    for segment in strip:
        if offset <= x < offset + len(segment.text):
            style = segment.style
            assert style is not None
            return style.color, style.bgcolor
        offset += len(segment.text)
    raise AssertionError(f"no cell {x}")


@pytest.mark.parametrize(
    ("size", "theme", "scale"),
    [((80, 24), "textual-dark", 1), ((80, 24), "textual-light", 1), ((120, 40), "nord", 2)],
)
async def test_widget_draws_a_readable_badge(size: tuple[int, int], theme: str, scale: int) -> None:
    app = BadgeApp(theme)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        view = app.query_one(QrView)
        drawn = view.qr_text
        assert drawn is not None
        assert drawn.lines == tuple(qr_lines(TOKEN, scale=scale))
        assert drawn.height + 3 <= size[1]

        strips = _screen_strips(app)
        text = [strip.text for strip in strips]
        assert "Ada Lovelace — Demo site" in text[0]
        assert any("Nouveau code dans 20 s" in line for line in text)

        region = view.content_region
        top = region.y + (region.height - drawn.height) // 2
        left = region.x + (region.width - drawn.width) // 2
        on_screen = [line[left : left + drawn.width] for line in text[top : top + drawn.height]]
        assert on_screen == list(drawn.lines)
        if scale == 1:
            assert any("\u2580" in line and "\u2584" in line for line in on_screen)

        # Black on white, quiet zone included, whatever the theme.
        for row in (top, top + drawn.height // 2, top + drawn.height - 1):
            for x in (left, left + drawn.width // 2, left + drawn.width - 1):
                foreground, background = _cell_colours(strips[row], x)
                assert foreground is not None and background is not None
                assert foreground.get_truecolor().hex.lower() == "#000000"
                assert background.get_truecolor().hex.lower() == "#ffffff"

        modules = lines_to_modules(on_screen)
        expected = _segno_modules(TOKEN)
        assert _downscale(modules, scale, len(expected)) == expected
        assert _decode(modules) == [TOKEN]
        _service_accepts(TOKEN)


async def test_widget_follows_its_payload() -> None:
    app = BadgeApp("textual-dark")
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(QrView)
        first = view.qr_text
        following = make_badge_token(
            site_id=1, account_id=1234, secret=SECRET, step=current_step(NOW) + 1
        )
        view.payload = following
        await pilot.pause()
        assert view.qr_text is not None and view.qr_text != first
        assert view.qr_text.lines == tuple(qr_lines(following))

        view.payload = None
        await pilot.pause()
        assert view.qr_text is None
        view.payload = "X" * 8000  # more than any QR holds: nothing drawn, no crash
        await pilot.pause()
        assert view.qr_text is None
        assert not any(
            set(line) & {"\u2580", "\u2584", "\u2588"}
            for line in (strip.text for strip in _screen_strips(app))
        )
