"""The watchlist at the reception desk: the site's entries (name, birth date, reason, who added
them), a form to add one and a way to remove one; and the decision on a check-in the watchlist
held (`HeldVisitorScreen`): the entry beside the visitor, to let them in or refuse entry.

Only reception sees any of this; the visitor at the kiosk is only asked to see reception.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from kiosk.i18n import _, ngettext
from kiosk.screens.base import IdleKind, KioskScreen
from kiosk.screens.visit_form import parse_day
from kiosk.text import fold, plain
from kiosk.widgets.visitor_table import Column, TableRow, VisitorTable

if TYPE_CHECKING:
    import datetime as dt

    from kiosk.api.models import HeldCheckIn, WatchlistEntry

NAME_MAX = 200
REASON_MAX = 500
NAME_WIDTH = 40

Decision = Literal["release", "refuse"]


def _born(entry: WatchlistEntry) -> str:
    return f"{entry.birth_date:%d/%m/%Y}" if entry.birth_date is not None else "—"


class WatchlistScreen(KioskScreen):
    """The site's watchlist: add and remove entries (reception only)."""

    IDLE: ClassVar[IdleKind] = "lock"
    AUTO_FOCUS = "#watchlist-name"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="watchlist.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[WatchlistEntry] | None = None
        """The site's entries (None until loaded)."""
        self.removing: int | None = None
        """The entry whose removal waits for a second press."""

    def compose(self) -> ComposeResult:
        with Vertical(id="watchlist-body"):
            yield Static(Content(self._title()), id="watchlist-title")
            yield VisitorTable(
                [
                    Column(_("Name"), 26),
                    Column(_("Born"), 10),
                    Column(_("Reason")),
                    Column(_("Added by"), 16),
                ],
                empty_text=_("Nobody is on the watchlist."),
                id="watchlist-table",
            )
            yield self.message_widget()
            with Horizontal(id="watchlist-form"):
                yield Input(
                    placeholder=_("Full name"),
                    max_length=NAME_MAX,
                    id="watchlist-name",
                    compact=True,
                )
                yield Input(
                    placeholder=_("Born (DD/MM/YYYY)"),
                    max_length=10,
                    id="watchlist-born",
                    compact=True,
                )
            yield Input(
                placeholder=_("Reason (reception and security read it)"),
                max_length=REASON_MAX,
                id="watchlist-reason",
                compact=True,
            )
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back", compact=True)
                yield Button(_("Remove"), id="watchlist-remove", variant="error", compact=True)
                yield Button(_("Add"), id="watchlist-add", variant="primary", compact=True)

    def _title(self) -> str:
        if self.entries is None:
            return _("Watchlist")
        count = len(self.entries)
        return _("Watchlist — {people}").format(
            people=ngettext("%(n)d person", "%(n)d people", count) % {"n": count}
        )

    def _rows(self) -> list[TableRow]:
        rows = []
        for entry in self.entries or []:
            cells = (
                plain(entry.full_name, max_length=NAME_WIDTH),
                _born(entry),
                plain(entry.reason, max_length=REASON_MAX),
                plain(entry.added_by, max_length=NAME_WIDTH),
            )
            rows.append(TableRow(entry.id, cells, search=fold(" ".join(cells))))
        return rows

    def _show(self) -> None:
        self.query_one("#watchlist-title", Static).update(Content(self._title()))
        self.query_one("#watchlist-table", VisitorTable).set_rows(self._rows())
        self.query_one("#watchlist-remove", Button).disabled = not self.entries

    def on_mount(self) -> None:
        self._show()
        self._load()

    @work(exclusive=True, exit_on_error=False, group="watchlist-load")
    async def _load(self) -> None:
        self.entries = (await self.kiosk.api().watchlist()).entries
        self._show()

    # Adding -----------------------------------------------------------------------------------

    @on(Input.Submitted, "#watchlist-name, #watchlist-born")
    def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    @on(Input.Submitted, "#watchlist-reason")
    @on(Button.Pressed, "#watchlist-add")
    def _add_pressed(self) -> None:
        name = self.query_one("#watchlist-name", Input).value.strip()
        born_text = self.query_one("#watchlist-born", Input).value.strip()
        reason = self.query_one("#watchlist-reason", Input).value.strip()
        if not name:
            self.show_message(_("Type the person's full name."))
            self.query_one("#watchlist-name", Input).focus()
            return
        born = parse_day(born_text) if born_text else None
        if born_text and born is None:
            self.show_message(_("Type the birth date as 24/12/1980, or leave it empty."))
            self.query_one("#watchlist-born", Input).focus()
            return
        if not reason:
            self.show_message(_("Type the reason: reception and security read it."))
            self.query_one("#watchlist-reason", Input).focus()
            return
        self.set_busy(True)
        self._add(name, reason, born)

    @work(exclusive=True, exit_on_error=False, group="watchlist-change")
    async def _add(self, name: str, reason: str, born: dt.date | None) -> None:
        api = self.kiosk.api()
        entry = await api.add_watchlist_entry(name, reason, born)
        for field in ("#watchlist-name", "#watchlist-born", "#watchlist-reason"):
            self.query_one(field, Input).value = ""
        self.entries = (await api.watchlist()).entries
        self._show()
        self.show_message(
            _("{name} is on the watchlist.").format(
                name=plain(entry.full_name, max_length=NAME_WIDTH)
            )
        )
        self.query_one("#watchlist-name", Input).focus()

    # Removing ---------------------------------------------------------------------------------

    def _highlighted_entry(self) -> WatchlistEntry | None:
        key = self.query_one("#watchlist-table", VisitorTable).highlighted_key
        return next((entry for entry in self.entries or [] if entry.id == key), None)

    @on(VisitorTable.Highlighted, "#watchlist-table")
    def _moved(self, event: VisitorTable.Highlighted) -> None:
        event.stop()
        self.removing = None

    @on(Button.Pressed, "#watchlist-remove")
    def _remove_pressed(self) -> None:
        entry = self._highlighted_entry()
        if entry is None:
            self.show_message(_("Choose an entry in the list first."))
            return
        name = plain(entry.full_name, max_length=NAME_WIDTH)
        if self.removing != entry.id:
            self.removing = entry.id
            self.show_message(
                _("Press Remove again to take {name} off the list.").format(name=name)
            )
            return
        self.removing = None
        self.set_busy(True)
        self._remove(entry.id, name)

    @work(exclusive=True, exit_on_error=False, group="watchlist-change")
    async def _remove(self, entry_id: int, name: str) -> None:
        api = self.kiosk.api()
        await api.remove_watchlist_entry(entry_id)
        self.entries = (await api.watchlist()).entries
        self._show()
        self.show_message(_("{name} is off the watchlist.").format(name=name))

    def on_problem(self, error: BaseException | None) -> None:
        from kiosk.api.errors import ProblemError

        super().on_problem(error)
        if isinstance(error, ProblemError) and error.code == "watchlist-entry-unknown":
            self._load()

    # Leaving ----------------------------------------------------------------------------------

    @on(Button.Pressed, "#back")
    def _back_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_back()

    def action_back(self) -> None:
        self.app.pop_screen()


class HeldVisitorScreen(ModalScreen[Decision | None]):
    """A check-in the watchlist held: the visitor beside the entry their name matched. Dismissed
    with "release" (let them in: they are checked in), "refuse", or None (decide later)."""

    IDLE: ClassVar[IdleKind] = "lock"
    AUTO_FOCUS = "#held-later"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "later", "Later", show=False, id="held_visitor.later"),
    ]

    def __init__(self, visitor_name: str, host_name: str, hold: HeldCheckIn) -> None:
        super().__init__()
        self.visitor_name = visitor_name
        """Plain text already."""
        self.host_name = host_name
        """Plain text already."""
        self.hold = hold

    def compose(self) -> ComposeResult:
        hold, entry = self.hold, self.hold.entry
        with Vertical(id="held-visitor-body", classes="panel"):
            yield Static(_("Check-in held: watchlist"), classes="title", markup=False)
            yield Static(
                Content(
                    _("Visitor: {name}, for {host}").format(
                        name=self.visitor_name, host=self.host_name
                    )
                ),
                id="held-visitor",
            )
            if entry is not None:
                lines = [
                    _("Entry: {name}, born {born}").format(
                        name=plain(entry.full_name, max_length=NAME_WIDTH), born=_born(entry)
                    ),
                    _("Reason: {reason}").format(reason=plain(entry.reason, max_length=REASON_MAX)),
                    _("Added by {who}").format(who=plain(entry.added_by, max_length=NAME_WIDTH)),
                ]
            else:
                lines = [_("The entry was removed since; the check-in still waits for you.")]
            if hold.refused_at is not None:
                lines.append(_("Entry was refused. You may still let them in."))
            for line in lines:
                yield Static(Content(line), classes="held-line")
            yield Static(
                _("Check the identity document before deciding. The visitor is not told why."),
                classes="held-hint",
                markup=False,
            )
            with Horizontal(classes="actions"):
                yield Button(_("Later"), id="held-later", compact=True)
                if hold.refused_at is None:
                    yield Button(_("Refuse entry"), id="held-refuse", variant="error", compact=True)
                yield Button(_("Let in"), id="held-release", variant="success", compact=True)

    def action_later(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#held-later")
    def _later(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#held-refuse")
    def _refuse(self) -> None:
        self.dismiss("refuse")

    @on(Button.Pressed, "#held-release")
    def _release(self) -> None:
        self.dismiss("release")
