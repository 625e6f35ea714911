"""What the camera sees, drawn with half blocks so that a person can aim their QR code.

Each character cell shows two pixels stacked vertically: `▀` in the upper pixel's grey on the
lower pixel's grey. The preview frames the scanner hands out are small (at most 160×120); they
are scaled to the widget with numpy and drawn as runs of equal cells, so a frame costs a few
hundred segments rather than one Python object per pixel.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

if TYPE_CHECKING:
    import numpy.typing as npt

    from kiosk.scanner.results import Corners, PreviewFrame

LEVELS = 32
"""Grey levels drawn: enough to aim by, and few enough that equal neighbours merge into runs."""
_SHIFT = 3  # 256 grey values >> 3 = 32 levels
_HIGHLIGHT = LEVELS
"""The level of the frame drawn around a code in view."""
_HIGHLIGHT_RGB = (0, 215, 95)
_UPPER_HALF = "\u2580"


@cache
def _colour(level: int) -> Color:
    if level == _HIGHLIGHT:
        return Color.from_rgb(*_HIGHLIGHT_RGB)
    grey = level * (256 // LEVELS) + (256 // LEVELS) // 2
    return Color.from_rgb(grey, grey, grey)


@cache
def _cell_style(pair: int) -> Style:
    upper, lower = divmod(pair, LEVELS + 1)
    return Style(color=_colour(upper), bgcolor=_colour(lower))


def preview_levels(
    pixels: npt.NDArray[Any], corners: Corners | None, width: int, height: int
) -> npt.NDArray[Any]:
    """`pixels` (H×W grey) scaled to fit `width` cells × `height` cells (two pixel rows per
    cell, aspect kept), as grey levels, with the box around `corners` drawn in the highlight
    level. Returns an array of 2·rows × columns levels (rows ≤ `height`, columns ≤ `width`)."""
    import numpy as np

    source_h, source_w = pixels.shape[:2]
    scale = min(width / source_w, 2 * height / source_h)
    out_w = max(1, int(source_w * scale))
    out_h = max(2, int(source_h * scale) // 2 * 2)
    # Nearest-neighbour sampling: cheap, and the preview is only for aiming.
    ys = (np.arange(out_h) * source_h // out_h).astype(np.intp)
    xs = (np.arange(out_w) * source_w // out_w).astype(np.intp)
    levels: npt.NDArray[Any] = (pixels[ys[:, None], xs[None, :]] >> _SHIFT).astype(np.int32)
    if corners is not None:
        points = np.array(corners, dtype=np.float64)
        x0, y0 = np.floor(points.min(axis=0) * (out_w / source_w, out_h / source_h)).astype(int)
        x1, y1 = np.ceil(points.max(axis=0) * (out_w / source_w, out_h / source_h)).astype(int)
        # A margin of one pixel, so the frame goes around the code rather than over it.
        x0, y0 = max(x0 - 1, 0), max(y0 - 1, 0)
        x1, y1 = min(x1 + 1, out_w - 1), min(y1 + 1, out_h - 1)
        if x0 < x1 and y0 < y1:
            levels[y0, x0 : x1 + 1] = _HIGHLIGHT
            levels[y1, x0 : x1 + 1] = _HIGHLIGHT
            levels[y0 : y1 + 1, x0] = _HIGHLIGHT
            levels[y0 : y1 + 1, x1] = _HIGHLIGHT
    return levels


def level_strips(levels: npt.NDArray[Any], width: int, background: Style) -> list[Strip]:
    """One strip per pair of level rows, centred in `width` cells on `background`."""
    import numpy as np

    columns = levels.shape[1]
    pairs = levels[0::2] * (LEVELS + 1) + levels[1::2]
    left = max(0, (width - columns) // 2)
    right = max(0, width - columns - left)
    strips: list[Strip] = []
    for row in pairs:
        # Runs of equal cells become one segment each.
        starts = np.flatnonzero(np.diff(row)) + 1
        bounds = [0, *starts.tolist(), columns]
        values = row[[0, *starts.tolist()]].tolist()
        segments = [Segment(" " * left, background)] if left else []
        segments.extend(
            Segment(_UPPER_HALF * (end - start), _cell_style(value))
            for start, end, value in zip(bounds[:-1], bounds[1:], values, strict=True)
        )
        if right:
            segments.append(Segment(" " * right, background))
        strips.append(Strip(segments, width))
    return strips


class CameraPreview(Widget):
    """Shows the latest `PreviewFrame` (call `show`), scaled to the widget, with a frame around
    a code in view; blank before the first frame."""

    DEFAULT_CSS = """
    CameraPreview {
        width: 1fr;
        height: 1fr;
        min-height: 4;
    }
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._frame: PreviewFrame | None = None
        self._strips: list[Strip] | None = None
        self.frames_shown = 0
        """How many frames were drawn (for tests and the benchmark)."""

    @property
    def code_in_view(self) -> bool:
        """True when the frame shown has a code framed."""
        return self._frame is not None and self._frame.corners is not None

    def show(self, frame: PreviewFrame | None) -> None:
        """Draw `frame` (None: blank)."""
        self._frame = frame
        self._strips = None
        if frame is not None:
            self.frames_shown += 1
        self.refresh()

    def on_resize(self) -> None:
        self._strips = None
        self.refresh()

    def _lines(self) -> list[Strip]:
        if self._strips is None:
            size = self.content_size
            frame = self._frame
            if frame is None or size.width <= 0 or size.height <= 0:
                self._strips = []
            else:
                levels = preview_levels(frame.pixels, frame.corners, size.width, size.height)
                self._strips = level_strips(levels, size.width, self.rich_style)
        return self._strips

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        strips = self._lines()
        top = (self.content_size.height - len(strips)) // 2
        row = y - top
        if 0 <= row < len(strips):
            return strips[row]
        return Strip.blank(width, self.rich_style)
