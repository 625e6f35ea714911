"""`VisitorTable`: a list of visitors that draws only the rows in view and filters as a person
types.

The reception desk holds a whole day of visitors (thousands on a large site). `DataTable` and
`OptionList` measure every row when rows change (about 150 ms for 2,000 rows), which is too slow
for a search at each keystroke; this widget keeps its rows as plain tuples of already-cleaned
strings, lays them out in fixed-width columns, and renders a line only when it is on screen.
Filtering is a scan over pre-folded search keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import Reactive, reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kiosk.text import fold


@dataclass(frozen=True, slots=True)
class TableRow:
    """One row: `cells` are plain text already (control characters removed by the caller)."""

    key: int
    """What the row stands for (a visitor id)."""
    cells: tuple[str, ...]
    marked: bool = False
    """Drawn with the `visitor-table--marked` style (overdue...)."""
    search: str = field(default="", compare=False)
    """Folded text the filter looks in; by default, the cells."""


@dataclass(frozen=True, slots=True)
class Column:
    """A column's title and width in cells (None: what the others leave)."""

    title: str
    width: int | None = None


class VisitorTable(ScrollView, can_focus=True):
    """Rows in fixed-width columns under a header line; a cursor row; Enter or a click selects.

    Only the lines in view are drawn, so the cost of a redraw does not grow with the rows.
    """

    DEFAULT_CSS = """
    VisitorTable {
        height: 1fr;
        background: $surface;
    }
    VisitorTable > .visitor-table--header {
        text-style: bold;
        color: $text-muted;
    }
    /* The selected row is underlined as well as coloured: colour alone would not say which
       row the desk's actions act on (WCAG 1.4.1). */
    VisitorTable > .visitor-table--cursor {
        background: $panel-lighten-2;
        text-style: underline;
    }
    VisitorTable:focus > .visitor-table--cursor {
        background: $accent;
        color: $text;
        text-style: underline;
    }
    VisitorTable > .visitor-table--marked {
        color: $warning;
        text-style: bold;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "visitor-table--header",
        "visitor-table--cursor",
        "visitor-table--marked",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
        Binding("enter", "select", "Select", show=False),
    ]

    cursor: Reactive[int] = reactive(0, always_update=True, repaint=False)
    """Index of the highlighted row among the rows shown (those the filter keeps)."""

    @dataclass
    class Highlighted(Message):
        """The cursor moved to the row of `key` (None: no row)."""

        table: VisitorTable
        key: int | None

        @property
        def control(self) -> VisitorTable:
            return self.table

    @dataclass
    class Selected(Message):
        """Enter or a click on the row of `key`."""

        table: VisitorTable
        key: int

        @property
        def control(self) -> VisitorTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        empty_text: str = "",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.columns = tuple(columns)
        self.empty_text = empty_text
        """Shown under the header when no row is shown."""
        self._rows: list[TableRow] = []
        self._shown: list[TableRow] = []
        self._words: list[str] = []

    # Data -------------------------------------------------------------------------------------

    @property
    def rows(self) -> Sequence[TableRow]:
        """Every row, whether the filter shows it or not."""
        return self._rows

    @property
    def shown(self) -> Sequence[TableRow]:
        """The rows the filter keeps, in order."""
        return self._shown

    @property
    def highlighted_key(self) -> int | None:
        """The key of the row under the cursor."""
        if 0 <= self.cursor < len(self._shown):
            return self._shown[self.cursor].key
        return None

    def set_rows(self, rows: Sequence[TableRow]) -> None:
        """Replace the rows; the cursor stays on the same key when it is still shown."""
        self._rows = [
            row
            if row.search
            else TableRow(row.key, row.cells, row.marked, fold(" ".join(row.cells)))
            for row in rows
        ]
        self._apply()

    def filter(self, query: str) -> None:
        """Show only the rows whose text holds every word of `query` (case and accents
        ignored)."""
        self._words = fold(query).split()
        self._apply()

    def _apply(self) -> None:
        keep = self.highlighted_key
        words = self._words
        if words:
            self._shown = [row for row in self._rows if all(w in row.search for w in words)]
        else:
            self._shown = list(self._rows)
        index = 0
        if keep is not None:
            for position, row in enumerate(self._shown):
                if row.key == keep:
                    index = position
                    break
        self.virtual_size = Size(self._total_width(), len(self._shown) + 1)
        self.cursor = min(index, max(0, len(self._shown) - 1))
        self.refresh()

    # Drawing ----------------------------------------------------------------------------------

    def _total_width(self) -> int:
        return sum((column.width or 20) + 1 for column in self.columns)

    def _widths(self, width: int) -> list[int]:
        fixed = sum(column.width + 1 for column in self.columns if column.width is not None)
        flexible = [column for column in self.columns if column.width is None]
        share = max(8, (width - fixed) // len(flexible) - 1) if flexible else 0
        return [column.width if column.width is not None else share for column in self.columns]

    def _line_text(self, cells: Sequence[str], width: int) -> str:
        parts = [
            set_cell_size(cell if cell_len(cell) <= size else _cut(cell, size), size)
            for cell, size in zip(cells, self._widths(width), strict=False)
        ]
        return set_cell_size(" ".join(parts), width)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            style = base + self.get_component_rich_style("visitor-table--header")
            titles = [column.title for column in self.columns]
            return Strip([Segment(self._line_text(titles, width), style)], width)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self._shown):
            if index == 0 and self.empty_text:
                return Strip([Segment(set_cell_size(self.empty_text, width), base)], width)
            return Strip.blank(width, base)
        row = self._shown[index]
        style = base
        if row.marked:
            style += self.get_component_rich_style("visitor-table--marked")
        if index == self.cursor:
            style += self.get_component_rich_style("visitor-table--cursor")
        return Strip([Segment(self._line_text(row.cells, width), style)], width)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        # The header is line 0 of every frame: redraw the whole view, not a shifted copy.
        super().watch_scroll_y(old_value, new_value)
        self.refresh()

    # Cursor -----------------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.Highlighted(self, self.highlighted_key))

    def _scroll_to_cursor(self) -> None:
        # Line 0 is the header, so row n is line n + 1 of the view; keep it under the header.
        view = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + view:
            self.scroll_to(y=self.cursor - view + 1, animate=False, immediate=True)

    def action_cursor(self, step: int) -> None:
        if self._shown:
            self.cursor = max(0, min(len(self._shown) - 1, self.cursor + step))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.scrollable_content_region.height - 2))

    def action_cursor_to(self, index: int) -> None:
        if self._shown:
            self.cursor = index if index >= 0 else len(self._shown) - 1

    def action_select(self) -> None:
        key = self.highlighted_key
        if key is not None:
            self.post_message(self.Selected(self, key))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        index = int(self.scroll_y) + offset.y - 1
        if 0 <= index < len(self._shown):
            self.cursor = index
            self.post_message(self.Selected(self, self._shown[index].key))

    def region_of_cursor(self) -> Region:
        """Where the cursor row is, in the view (for tests and screen readers)."""
        return Region(0, self.cursor + 1 - int(self.scroll_y), self.size.width, 1)


def _cut(text: str, size: int) -> str:
    """`text` cut to `size` cells, ending with an ellipsis."""
    if size <= 1:
        return set_cell_size(text, size)
    return set_cell_size(text, size - 1) + "…"
