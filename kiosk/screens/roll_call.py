"""The evacuation roll call: everyone on site now, with their host and arrival time, overdue
visitors marked; exported as CSV (the service's, guarded against formula injection) into the
terminal's data directory, and printed when a printer is set.

When the service cannot be reached, the screen shows the local copy that the reception desk
keeps (`kiosk.roll_call_cache`), and says how old it is.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from kiosk.format import local_time, site_zone
from kiosk.i18n import _
from kiosk.screens.base import IdleKind, KioskScreen
from kiosk.text import plain
from kiosk.widgets.visitor_table import Column, TableRow, VisitorTable

if TYPE_CHECKING:
    from kiosk.api.models import RollCall
    from kiosk.roll_call_cache import RollCallCache

NAME_WIDTH = 40


def terminal_now() -> dt.datetime:
    """The terminal's clock (the age of a local copy is counted on it)."""
    return dt.datetime.now(dt.UTC)


def format_age(age: dt.timedelta) -> str:
    """`12 min` / `2 h 05 min` / `less than a minute`."""
    minutes = int(age.total_seconds() // 60)
    if minutes < 1:
        return _("less than a minute")
    if minutes < 60:
        return _("{minutes} min").format(minutes=minutes)
    return _("{hours} h {minutes:02d} min").format(hours=minutes // 60, minutes=minutes % 60)


class RollCallScreen(KioskScreen):
    """Who is on site now; works from the local copy when the service is down."""

    IDLE: ClassVar[IdleKind] = "lock"
    AUTO_FOCUS = "#roll-call-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="roll_call.back"),
        Binding("f5", "refresh", "Refresh", show=False, id="roll_call.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.roll_call: RollCall | None = None
        """What is shown (from the service, or the local copy)."""
        self.from_copy = False
        """True when the service could not be reached and the local copy is shown."""
        self.exported: str | None = None
        """Where the last CSV export was written."""

    def compose(self) -> ComposeResult:
        with Vertical(id="roll-call-body"):
            yield Static(_("Evacuation roll call"), id="roll-call-title", markup=False)
            yield Static(
                Content(self._status_text()),
                id="roll-call-status",
                classes="-stale" if self.from_copy else "",
            )
            yield VisitorTable(
                [
                    Column(_("Visitor")),
                    Column(_("Company")),
                    Column(_("Host")),
                    Column(_("Place"), 16),
                    Column(_("Arrived"), 7),
                    Column(_("Status"), 9),
                ],
                empty_text=_("Nobody is on site."),
                id="roll-call-table",
            )
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Refresh"), id="refresh", compact=True)
                yield Button(_("Export CSV"), id="export", compact=True)
                if self.kiosk.settings.printer.kind != "none":
                    yield Button(_("Print"), id="print", compact=True)
                yield Button(_("Evacuation"), id="evacuation", variant="error", compact=True)
                yield Button(_("Back"), id="back", compact=True)

    def on_mount(self) -> None:
        self._fill()
        self.load()

    async def relabel(self) -> None:
        await super().relabel()
        self._fill()

    def _zone(self) -> dt.tzinfo:
        session = self.kiosk.session
        return site_zone(session.time_zone if session is not None else "")

    def _status_text(self) -> str:
        call = self.roll_call
        if call is None:
            return _("Loading…")
        zone = self._zone()
        count = len(call.people)
        when = local_time(call.generated_at, zone).strftime("%d/%m %H:%M")
        if not self.from_copy:
            return _("{count} on site, at {time}").format(count=count, time=when)
        from kiosk.roll_call_cache import age

        return _(
            "The service cannot be reached. Local copy of {time} ({age} ago): {count} on site."
        ).format(time=when, age=format_age(age(call, terminal_now())), count=count)

    def _fill(self) -> None:
        call = self.roll_call
        zone = self._zone()
        rows: list[TableRow] = []
        for person in call.people if call is not None else ():
            cells = (
                plain(f"{person.first_name} {person.last_name}", max_length=NAME_WIDTH),
                plain(person.company, max_length=NAME_WIDTH),
                plain(person.host_name, max_length=NAME_WIDTH),
                plain(person.place, max_length=NAME_WIDTH),
                f"{local_time(person.checked_in_at, zone):%H:%M}",
                _("Overdue") if person.overdue else "",
            )
            rows.append(TableRow(person.visitor_id, cells, marked=person.overdue))
        self.query_one("#roll-call-table", VisitorTable).set_rows(rows)
        status = self.query_one("#roll-call-status", Static)
        status.update(Content(self._status_text()))
        status.set_class(self.from_copy, "-stale")

    def _cache(self) -> RollCallCache | None:
        session = self.kiosk.session
        if session is None:
            return None
        from kiosk.roll_call_cache import RollCallCache

        return RollCallCache(self.kiosk.settings.resolved_data_dir(), session.site_code)

    # Loading ----------------------------------------------------------------------------------

    def load(self) -> None:
        """Fetch the roll call; fall back on the local copy when the service is down."""
        self.set_busy(True)
        self._load()

    @work(exclusive=True, exit_on_error=False, group="roll-call")
    async def _load(self) -> None:
        from kiosk.api.errors import ServiceUnavailable

        cache = self._cache()
        try:
            call = await self.kiosk.api().roll_call()
        except ServiceUnavailable:
            copy = await asyncio.to_thread(cache.load) if cache is not None else None
            if copy is None:
                raise
            self.roll_call, self.from_copy = copy, True
            self._fill()
            return
        self.roll_call, self.from_copy = call, False
        self._fill()
        self.show_message("")
        if cache is not None:
            await asyncio.to_thread(cache.save, call)

    # Actions ----------------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button.id
        if button == "back":
            self.dismiss()
        elif button == "refresh":
            self.load()
        elif button == "evacuation":
            self.open_screen("kiosk.screens.evacuation:EvacuationScreen")
        elif button == "export":
            self.set_busy(True)
            self._export()
        elif button == "print":
            self.set_busy(True)
            self._print()

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        self.load()

    @work(exclusive=True, exit_on_error=False, group="roll-call-export")
    async def _export(self) -> None:
        """The service's CSV; when the service cannot be reached, the one of the copy on screen,
        which says how old it is (an evacuation is when it is needed most)."""
        from kiosk.api.errors import ServiceUnavailable
        from kiosk.roll_call_cache import copy_csv

        cache = self._cache()
        if cache is None:
            return
        text: str | None = None
        if not self.from_copy:
            try:
                text = await self.kiosk.api().roll_call_csv()
            except ServiceUnavailable:
                if self.roll_call is None:
                    raise
                self.from_copy = True
                self._fill()
        if text is None:
            call = self.roll_call
            if call is None:
                return
            text = copy_csv(call, self._zone(), terminal_now())
        # Named by the site's time, which the desk reads everywhere else.
        named = local_time(terminal_now(), self._zone())
        path = await asyncio.to_thread(cache.write_export, text, named)
        self.exported = str(path)
        if self.from_copy:
            self.show_message(_("Local copy exported to {path}").format(path=plain(str(path))))
        else:
            self.show_message(_("Exported to {path}").format(path=plain(str(path))))

    @work(exclusive=True, exit_on_error=False, group="roll-call-print")
    async def _print(self) -> None:
        from kiosk.printing import print_roll_call

        call = self.roll_call
        if call is None:
            return
        zone = self._zone()
        when = local_time(call.generated_at, zone).strftime("%d/%m/%Y %H:%M")
        lines = [
            (
                f"{person.last_name} {person.first_name}",
                person.company,
                person.host_name,
                f"{local_time(person.checked_in_at, zone):%H:%M}",
                person.overdue,
            )
            for person in call.people
        ]
        title = _("Evacuation roll call, {time}").format(time=when)
        if self.from_copy:
            from kiosk.roll_call_cache import age

            title = _("{title} (local copy, {age} old)").format(
                title=title, age=format_age(age(call, terminal_now()))
            )
        outcome = await asyncio.to_thread(
            print_roll_call, self.kiosk.settings.printer, title, lines
        )
        if outcome.printed:
            self.show_message(_("The roll call is printed."))
        else:
            self.show_message(_("The printer is not available: the roll call is not printed."))
