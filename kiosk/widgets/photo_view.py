"""A visitor's still drawn with half blocks (as the camera preview draws what the camera sees):
for the visitor to check it before checking in, and for the host and the desk."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from kiosk.widgets.camera_preview import level_strips, preview_levels

if TYPE_CHECKING:
    import numpy.typing as npt


class PhotoView(Widget):
    """Grey pixels (H×W) scaled to the widget, aspect kept; blank without a photo."""

    DEFAULT_CSS = """
    PhotoView {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(
        self,
        pixels: npt.NDArray[Any] | None = None,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.pixels = pixels
        self._strips: list[Strip] = []

    def show(self, pixels: npt.NDArray[Any] | None) -> None:
        self.pixels = pixels
        self._strips = []
        self.refresh()

    def on_resize(self) -> None:
        self._strips = []

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        if self.pixels is None or width < 1 or height < 1:
            return Strip.blank(width, self.rich_style)
        if not self._strips:
            background = self.rich_style or Style()
            levels = preview_levels(self.pixels, None, width, height)
            self._strips = level_strips(levels, width, background)
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, self.rich_style)
