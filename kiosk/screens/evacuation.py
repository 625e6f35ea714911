"""The muster of an evacuation, from the roll call: start it (everyone on site now is listed as
missing), mark each person safe at the muster point as they arrive (Enter on their row), see who
is still missing, and close it: the report (CSV) is written into the terminal's data directory.

Several desks can run the same muster: the list is fetched again every few seconds, and a mark
made elsewhere shows here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from kiosk.api.errors import ProblemError
from kiosk.format import local_time, site_zone
from kiosk.i18n import _
from kiosk.screens.base import IdleKind, KioskScreen
from kiosk.text import plain
from kiosk.widgets.visitor_table import Column, TableRow, VisitorTable

if TYPE_CHECKING:
    from kiosk.api.models import Evacuation

REFRESH_SECONDS = 5.0
"""How often the muster is fetched again (marks made at another desk)."""
NAME_WIDTH = 40


class EvacuationScreen(KioskScreen):
    """An evacuation's muster at the reception desk."""

    IDLE: ClassVar[IdleKind] = "lock"
    AUTO_FOCUS = "#evacuation-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="evacuation.back"),
        Binding("f5", "refresh", "Refresh", show=False, id="evacuation.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.evacuation: Evacuation | None = None
        """The muster shown (None: none in progress, or not loaded yet)."""
        self.loaded = False
        self.report: str | None = None
        """Where the closing report was written."""
        self._close_asked = False
        """Close was pressed once: the next press closes."""

    def compose(self) -> ComposeResult:
        with Vertical(id="evacuation-body"):
            yield Static(_("Evacuation — muster"), id="evacuation-title", markup=False)
            yield Static(Content(self._status_text()), id="evacuation-status")
            yield VisitorTable(
                [
                    Column(_("Visitor")),
                    Column(_("Company")),
                    Column(_("Host")),
                    Column(_("Status"), 16),
                ],
                empty_text=_("Nobody in this muster."),
                id="evacuation-table",
            )
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Start evacuation"), id="start", variant="error", compact=True)
                yield Button(_("Mark safe"), id="safe", variant="success", compact=True)
                yield Button(_("Close evacuation"), id="close", variant="warning", compact=True)
                yield Button(_("Back"), id="back", compact=True)

    def on_mount(self) -> None:
        self._fill()
        self.load()
        self.set_interval(REFRESH_SECONDS, self._refresh_quietly)

    def _zone(self) -> dt.tzinfo:
        session = self.kiosk.session
        return site_zone(session.time_zone if session is not None else "")

    def _time(self, moment: dt.datetime) -> str:
        return f"{local_time(moment, self._zone()):%H:%M}"

    def _status_text(self) -> str:
        evacuation = self.evacuation
        if not self.loaded:
            return _("Loading…")
        if evacuation is None:
            return _(
                "No evacuation in progress. Start one: everyone on site now is listed as "
                "missing until marked safe at the muster point."
            )
        counts = _("Safe: {safe} · Missing: {missing}").format(
            safe=evacuation.safe, missing=evacuation.missing
        )
        if evacuation.closed_at is not None:
            return _("Closed at {time}. {counts}").format(
                time=self._time(evacuation.closed_at), counts=counts
            )
        return _("Started at {time} by {name}. {counts}").format(
            time=self._time(evacuation.started_at),
            name=plain(evacuation.started_by, max_length=NAME_WIDTH),
            counts=counts,
        )

    def _fill(self) -> None:
        evacuation = self.evacuation
        rows: list[TableRow] = []
        for person in evacuation.people if evacuation is not None else ():
            status = (
                _("Safe {time}").format(time=self._time(person.safe_at))
                if person.safe_at is not None
                else _("MISSING")
            )
            cells = (
                plain(f"{person.first_name} {person.last_name}", max_length=NAME_WIDTH),
                plain(person.company, max_length=NAME_WIDTH),
                plain(person.host_name, max_length=NAME_WIDTH),
                status,
            )
            rows.append(TableRow(person.visitor_id, cells, marked=person.safe_at is None))
        self.query_one("#evacuation-table", VisitorTable).set_rows(rows)
        self.query_one("#evacuation-status", Static).update(Content(self._status_text()))
        running = evacuation is not None and evacuation.closed_at is None
        self.query_one("#start", Button).display = self.loaded and not running
        self.query_one("#safe", Button).display = running
        self.query_one("#close", Button).display = running

    # Loading ----------------------------------------------------------------------------------

    def load(self) -> None:
        self.set_busy(True)
        self._load()

    def _refresh_quietly(self) -> None:
        evacuation = self.evacuation
        acting = any(w.group == "evacuation-action" and w.is_running for w in self.workers)
        if evacuation is not None and evacuation.closed_at is None and not acting:
            self._load()

    @work(exclusive=True, exit_on_error=False, group="evacuation-load")
    async def _load(self) -> None:
        evacuation: Evacuation | None
        try:
            evacuation = await self.kiosk.api().current_evacuation()
        except ProblemError as error:
            if error.code != "evacuation-none":
                raise
            if self.evacuation is not None and self.evacuation.closed_at is None:
                return  # closed at another desk: what was shown stays until Back
            evacuation = self.evacuation
        self.loaded = True
        self.evacuation = evacuation
        self._fill()

    # Actions ----------------------------------------------------------------------------------

    @on(Button.Pressed, "#start")
    def _start_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.set_busy(True)
        self._start()

    @work(exclusive=True, exit_on_error=False, group="evacuation-action")
    async def _start(self) -> None:
        api = self.kiosk.api()
        try:
            evacuation = await api.start_evacuation()
        except ProblemError as error:
            if error.code != "evacuation-in-progress":
                raise
            evacuation = await api.current_evacuation()  # started at another desk: join it
        self.evacuation, self.report, self._close_asked = evacuation, None, False
        self.show_message("")
        self._fill()
        self.query_one("#evacuation-table", VisitorTable).focus()

    @on(VisitorTable.Selected, "#evacuation-table")
    def _selected(self, event: VisitorTable.Selected) -> None:
        event.stop()
        self._mark(event.key)

    @on(Button.Pressed, "#safe")
    def _safe_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        key = self.query_one("#evacuation-table", VisitorTable).highlighted_key
        if key is not None:
            self._mark(key)

    def _mark(self, visitor_id: int) -> None:
        evacuation = self.evacuation
        if evacuation is None or evacuation.closed_at is not None:
            return
        self._send_mark(evacuation.id, visitor_id)

    @work(exclusive=True, exit_on_error=False, group="evacuation-action")
    async def _send_mark(self, evacuation_id: int, visitor_id: int) -> None:
        self.evacuation = await self.kiosk.api().mark_safe(evacuation_id, visitor_id)
        [person] = [p for p in self.evacuation.people if p.visitor_id == visitor_id]
        self.show_message(
            _("{name} is safe.").format(
                name=plain(f"{person.first_name} {person.last_name}", max_length=NAME_WIDTH)
            )
        )
        self._fill()

    @on(Button.Pressed, "#close")
    def _close_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        evacuation = self.evacuation
        if evacuation is None or evacuation.closed_at is not None:
            return
        if not self._close_asked:
            self._close_asked = True
            self.show_message(
                _("Press Close evacuation again to close it: {missing} still missing.").format(
                    missing=evacuation.missing
                )
            )
            return
        self.set_busy(True)
        self._close(evacuation.id)

    @work(exclusive=True, exit_on_error=False, group="evacuation-action")
    async def _close(self, evacuation_id: int) -> None:
        api = self.kiosk.api()
        self.evacuation = await api.close_evacuation(evacuation_id)
        self._close_asked = False
        self._fill()
        report = await api.evacuation_report_csv(evacuation_id)
        session = self.kiosk.session
        from kiosk.roll_call_cache import RollCallCache

        cache = RollCallCache(
            self.kiosk.settings.resolved_data_dir(), session.site_code if session else "site"
        )
        path = await asyncio.to_thread(
            cache.write_export, report, dt.datetime.now(dt.UTC), "evacuation"
        )
        self.report = str(path)
        self.show_message(
            _("Evacuation closed: {safe} safe, {missing} missing. Report: {path}").format(
                safe=self.evacuation.safe, missing=self.evacuation.missing, path=path
            )
        )

    def action_refresh(self) -> None:
        self.load()

    @on(Button.Pressed, "#back")
    def _back_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_back()

    def action_back(self) -> None:
        self.dismiss()
