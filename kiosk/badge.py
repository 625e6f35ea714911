"""The badge QR as terminal text: each character cell holds two modules stacked vertically.

Imports no Textual. The lines are meant to be drawn dark-on-light (black foreground on a white
background, whatever the theme): a space is two light modules, `▀` dark above light, `▄` light
above dark, `█` two dark modules. A module is one column wide and half a row tall, which is
about square in a terminal font.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import segno

QUIET_ZONE = 4
"""Light modules around the code, as the QR standard asks; scanners need them."""

_CELLS = {
    (False, False): " ",
    (True, False): "\u2580",  # ▀ upper half block
    (False, True): "\u2584",  # ▄ lower half block
    (True, True): "\u2588",  # █ full block
}


@dataclass(frozen=True, slots=True)
class QrText:
    """A QR code drawn with half blocks: `lines` of equal width, and the code's version."""

    lines: tuple[str, ...]
    version: int

    @property
    def width(self) -> int:
        return len(self.lines[0]) if self.lines else 0

    @property
    def height(self) -> int:
        return len(self.lines)


def qr_matrix(
    payload: str, *, error: str = "m", quiet: int = QUIET_ZONE
) -> tuple[list[list[bool]], int]:
    """The modules of `payload`'s QR (True = dark), quiet zone included, and its version."""
    qr = segno.make(payload, error=error, micro=False)
    rows = [[bool(module) for module in row] for row in qr.matrix_iter(scale=1, border=quiet)]
    return rows, int(qr.version)


def matrix_size(version: int, *, quiet: int = QUIET_ZONE) -> int:
    """Modules along one side of a QR of `version`, quiet zone included."""
    return 17 + 4 * version + 2 * quiet


def text_size(modules: int, scale: int) -> tuple[int, int]:
    """Columns and rows that a `modules`-wide code takes at `scale`."""
    side = modules * scale
    return side, (side + 1) // 2


def best_scale(modules: int, width: int, height: int) -> int:
    """The largest integer scale at which the code fits `width` × `height` cells (0 if none)."""
    scale = 0
    while True:
        columns, rows = text_size(modules, scale + 1)
        if columns > width or rows > height:
            return scale
        scale += 1


def half_block_lines(matrix: Iterable[Iterable[bool]], *, scale: int = 1) -> list[str]:
    """Draws a module matrix, each module `scale` columns by `scale` half rows. An odd number
    of half rows is completed with a light one (more quiet zone, never less)."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    rows: list[list[bool]] = []
    for row in matrix:
        wide = [module for module in row for _ in range(scale)]
        rows.extend([wide] * scale)
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    return [
        "".join(_CELLS[top, bottom] for top, bottom in zip(upper, lower, strict=True))
        for upper, lower in zip(rows[::2], rows[1::2], strict=True)
    ]


def render_qr(payload: str, *, error: str = "m", quiet: int = QUIET_ZONE, scale: int = 1) -> QrText:
    """`payload` as a half-block QR at `scale`."""
    matrix, version = qr_matrix(payload, error=error, quiet=quiet)
    return QrText(tuple(half_block_lines(matrix, scale=scale)), version)


def qr_lines(
    payload: str, *, error: str = "m", quiet: int = QUIET_ZONE, scale: int = 1
) -> list[str]:
    """`payload` as lines of half-block text, quiet zone included."""
    return list(render_qr(payload, error=error, quiet=quiet, scale=scale).lines)


def lines_to_modules(lines: Iterable[str]) -> list[list[bool]]:
    """The inverse of `half_block_lines` at scale 1: each cell back to two modules (True = dark).
    Used to rasterise what was drawn and check it still reads."""
    dark_top = {"\u2580", "\u2588"}
    dark_bottom = {"\u2584", "\u2588"}
    modules: list[list[bool]] = []
    for line in lines:
        modules.append([cell in dark_top for cell in line])
        modules.append([cell in dark_bottom for cell in line])
    return modules
