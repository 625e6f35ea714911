"""A checkbox whose mark says its state by its shape, not only its colour (WCAG 1.4.1): a tick
when ticked, empty when not. Textual's own draws the same X in both states."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox


class TickBox(Checkbox):
    """`Checkbox` with ✓ when ticked and a blank when not."""

    def render(self) -> Content:
        self.BUTTON_INNER = "✓" if self.value else " "
        return super().render()
