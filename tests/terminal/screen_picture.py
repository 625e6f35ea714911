"""What a phone pointed at the kiosk sees: the screen as Textual drew it at the terminal's size,
each cell turned back into two pixels (its upper and lower half) by the colours of its
half-block character, enlarged and read with the project's own scanner, the file policy of
`kiosk scan`. A code cut by the screen's edge, or drawn too big to show whole, does not read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.cells import cell_len
from rich.color import Color
from textual.app import App

UPPER, LOWER, FULL = "\u2580", "\u2584", "\u2588"
PIXELS_PER_MODULE = 4

_DEFAULT_FOREGROUND = (255, 255, 255)
_DEFAULT_BACKGROUND = (0, 0, 0)


def _grey(color: Color | None, default: tuple[int, int, int]) -> int:
    red, green, blue = default if color is None else color.get_truecolor()
    return round(0.299 * red + 0.587 * green + 0.114 * blue)


def screen_picture(app: App[Any]) -> Any:
    """The screen on top as a grey picture: one pixel per cell across, two down."""
    import numpy as np

    rows: list[list[int]] = []
    for strip in app.screen._compositor.render_strips():
        upper: list[int] = []
        lower: list[int] = []
        for segment in strip:
            style = segment.style
            fore = _grey(style.color if style else None, _DEFAULT_FOREGROUND)
            back = _grey(style.bgcolor if style else None, _DEFAULT_BACKGROUND)
            if style is not None and style.reverse:
                fore, back = back, fore
            for character in segment.text:
                top, bottom = {
                    UPPER: (fore, back),
                    LOWER: (back, fore),
                    FULL: (fore, fore),
                }.get(character, (back, back))
                width = cell_len(character)
                upper.extend([top] * width)
                lower.extend([bottom] * width)
        rows.extend([upper, lower])
    width = max(len(row) for row in rows)
    picture = np.array([row + [0] * (width - len(row)) for row in rows], dtype=np.uint8)
    return np.kron(picture, np.ones((PIXELS_PER_MODULE, PIXELS_PER_MODULE), dtype=np.uint8))


def codes_on_screen(app: App[Any], folder: Path) -> list[str]:
    """Every code the project's scanner reads on the screen as drawn now."""
    import cv2

    from kiosk.scanner.files import scan_file

    path = folder / f"screen-{app.size.width}x{app.size.height}.png"
    assert cv2.imwrite(str(path), screen_picture(app))
    scanned = scan_file(path)
    assert scanned.error is None, scanned.error
    return [code.text for code in scanned.codes]
