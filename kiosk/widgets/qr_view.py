"""A QR code drawn with half-block characters, black on white whatever the theme."""

from __future__ import annotations

import logging

import segno
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from kiosk.badge import (
    QUIET_ZONE,
    QrText,
    best_scale,
    half_block_lines,
    matrix_size,
    qr_matrix,
    text_size,
)

MIN_QUIET_ZONE = 2
"""The narrowest light border drawn when the standard one leaves no room: phone scanners read a
code with two modules of it, not one cut by the edge of the screen."""

_log = logging.getLogger(__name__)

# Fixed colours: a scanner or a phone needs dark modules on a light ground with a light quiet zone,
# and a dark theme would otherwise invert the code.
_QR_STYLE = Style(color="#000000", bgcolor="#ffffff", bold=False, italic=False)


class QrView(Widget):
    """Shows `payload` as a QR code, quiet zone included, centred and at the largest integer
    scale that fits the widget. Give it the room it needs (1fr by default; `width: auto` takes
    the code's own width). Where the standard quiet zone (4 modules) leaves no room for the code
    at scale 1, a narrower one down to `MIN_QUIET_ZONE` is drawn; below that it still draws at
    scale 1, cropped."""

    DEFAULT_CSS = """
    QrView {
        width: 1fr;
        height: 1fr;
        min-width: 10;
        min-height: 5;
    }
    """

    payload: reactive[str | None] = reactive(None)
    """The text to encode (a badge token), or None to draw nothing. Never parsed as markup."""

    def __init__(
        self,
        payload: str | None = None,
        *,
        error: str = "m",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._error = error
        self._matrix: list[list[bool]] | None = None
        self._version = 0
        self._drawn: QrText | None = None
        self.set_reactive(QrView.payload, payload)
        self._encode(payload)

    @property
    def qr_text(self) -> QrText | None:
        """What is drawn: the half-block lines at the scale that fits now, or None."""
        return self._lines()

    def _encode(self, payload: str | None) -> None:
        self._drawn = None
        if payload is None:
            self._matrix = None
            return
        try:
            self._matrix, self._version = qr_matrix(payload, error=self._error, quiet=0)
        except segno.DataOverflowError:
            # Not our token (ours are 38 characters); draw nothing rather than take the kiosk
            # down, and log the size only: a payload may be a secret.
            _log.warning("QR payload too long to encode (%d characters)", len(payload))
            self._matrix = None

    def watch_payload(self, payload: str | None) -> None:
        self._encode(payload)
        self.refresh()

    def on_resize(self) -> None:
        self._drawn = None
        self.refresh()

    def get_content_width(self, container: Size, viewport: Size) -> int:
        """The code's width at scale 1 with the standard quiet zone (for `width: auto`)."""
        if self._matrix is None:
            return 0
        return text_size(matrix_size(self._version, quiet=QUIET_ZONE), 1)[0]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """The code's height at scale 1 with the standard quiet zone (for `height: auto`)."""
        if self._matrix is None:
            return 0
        return text_size(matrix_size(self._version, quiet=QUIET_ZONE), 1)[1]

    def _lines(self) -> QrText | None:
        if self._matrix is None:
            return None
        if self._drawn is None:
            size = self.content_size
            quiet, scale = MIN_QUIET_ZONE, 1
            for border in range(QUIET_ZONE, MIN_QUIET_ZONE - 1, -1):
                fits = best_scale(matrix_size(self._version, quiet=border), size.width, size.height)
                if fits >= 1:
                    quiet, scale = border, fits
                    break
            lines = half_block_lines(_bordered(self._matrix, quiet), scale=scale)
            self._drawn = QrText(tuple(lines), self._version)
        return self._drawn

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        blank = Strip.blank(width, self.rich_style)
        drawn = self._lines()
        if drawn is None:
            return blank
        top = (self.content_size.height - drawn.height) // 2
        row = y - top
        if not 0 <= row < drawn.height:
            return blank
        left = (width - drawn.width) // 2
        line = drawn.lines[row]
        if left < 0:  # narrower than the code: crop both sides evenly
            line = line[-left : -left + width]
            left = 0
        segments = [
            Segment(" " * left, self.rich_style),
            Segment(line, _QR_STYLE),
            Segment(" " * max(0, width - left - len(line)), self.rich_style),
        ]
        return Strip(segments, width)


def _bordered(matrix: list[list[bool]], quiet: int) -> list[list[bool]]:
    """`matrix` inside a light border `quiet` modules wide."""
    width = len(matrix[0]) + 2 * quiet
    blank = [False] * width
    side = [False] * quiet
    return [
        *([blank] * quiet),
        *([*side, *row, *side] for row in matrix),
        *([blank] * quiet),
    ]
