"""The reception desk ("Accueil"): today's visitors in three lists (expected, on site, left),
refreshed every few seconds, searched as the receptionist types; check a visitor in or out,
reprint a badge, approve or reject a pending request, register a walk-in, open the roll call,
take cash for a person's account.

The day is fetched whole and searched here, on pre-folded text, so that a keystroke costs a scan
of the rows and a redraw of the lines in view (`VisitorTable`), never a request. The desk keeps
the local copy of the roll call fresh (every minute) while it is open, and it locks when idle
(`IDLE = "lock"`): its user's PIN brings it back.

A refresh never gets in the way of typing: while the receptionist types in the search box, the
periodic fetches wait until they pause (`TYPING_PAUSE_SECONDS`), and an answer that changes
nothing redraws nothing but the time of the update.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import TYPE_CHECKING, ClassVar, Literal

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Static

from kiosk.api.errors import ApiError, ProblemError
from kiosk.format import local_time, site_zone
from kiosk.i18n import _
from kiosk.screens.base import IdleKind, KioskScreen
from kiosk.text import fold, plain
from kiosk.widgets.visitor_table import Column, TableRow, VisitorTable

if TYPE_CHECKING:
    from textual.timer import Timer

    from kiosk.api.models import ReceptionDay, ReceptionRow, VisitorBadge
    from kiosk.printing import PrintOutcome
    from kiosk.roll_call_cache import RollCallCache

ListName = Literal["expected", "on_site", "left"]
LISTS: tuple[ListName, ...] = ("expected", "on_site", "left")

REFRESH_SECONDS = 10.0
"""How often the lists are fetched again while the desk is shown."""
TYPING_PAUSE_SECONDS = 1.5
"""The periodic refreshes wait until the search box has had no keystroke for this long."""
NAME_WIDTH = 40


def visitor_label(row: ReceptionRow) -> str:
    """`Léa DUPONT`-like display name, as plain text."""
    return plain(f"{row.first_name} {row.last_name}", max_length=NAME_WIDTH)


class ReceptionScreen(KioskScreen):
    """The reception desk of a person with the reception role."""

    IDLE: ClassVar[IdleKind] = "lock"
    AUTO_FOCUS = "#reception-search"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="reception.back"),
        Binding("f5", "refresh", "Refresh", show=False, id="reception.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.day: ReceptionDay | None = None
        """The last answer of the service (None until the first arrives)."""
        self.current: ListName = "expected"
        """The list on show."""
        self.query_text = ""
        """What is typed in the search box."""
        self.refreshes = 0
        """Answers received so far (tests and the benchmark read it)."""
        self._rows: dict[int, ReceptionRow] = {}
        self._table_rows: dict[ListName, list[TableRow]] = {}
        """The rows of each list, built when the list is first shown."""
        self._cache: RollCallCache | None = None
        self._last_keystroke = float("-inf")
        self._missed: set[Literal["day", "roll-call"]] = set()
        self._catch_up: Timer | None = None

    # Drawing ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        session = self.kiosk.session
        site = plain(session.site_name, max_length=50) if session is not None else ""
        with Vertical(id="reception-body"):
            with Horizontal(id="reception-head"):
                yield Static(
                    Content.from_markup(_("Reception desk — $site"), site=site),
                    id="reception-title",
                )
                yield Static(Content(self._status_text()), id="reception-status")
            yield Input(
                self.query_text,
                placeholder=_("Search a visitor, a company or a host"),
                id="reception-search",
            )
            with Horizontal(id="reception-lists"):
                for name in LISTS:
                    yield Button(
                        self._list_label(name),
                        id=f"list-{name}",
                        compact=True,
                        classes="list -active" if name == self.current else "list",
                    )
            yield VisitorTable(
                self._columns(),
                empty_text=_("Nobody in this list."),
                id="reception-table",
            )
            yield self.message_widget()
            with Horizontal(id="reception-actions", classes="actions"):
                yield Button(_("Check in"), id="check-in", variant="success", compact=True)
                yield Button(_("Check out"), id="check-out", variant="warning", compact=True)
                yield Button(_("Reprint badge"), id="reprint", compact=True)
                yield Button(_("Approve"), id="approve", variant="success", compact=True)
                yield Button(_("Reject"), id="reject", variant="error", compact=True)
                yield Button(_("Photo"), id="photo", compact=True)
            with Horizontal(id="reception-more", classes="actions"):
                yield Button(_("Walk-in"), id="walk-in", compact=True)
                yield Button(_("Roll call"), id="roll-call", variant="primary", compact=True)
                yield Button(_("Cash"), id="cash", compact=True)
                yield Button(_("Watchlist"), id="watchlist", compact=True)
                yield Button(_("Back"), id="back", compact=True)

    def _columns(self) -> list[Column]:
        # As wide as its longest text in this language ("arrivé 06:15" was cut at 11 cells).
        times = ("00:00–00:00", _("in {time}").format(time="00:00"))
        return [
            Column(_("Visitor")),
            Column(_("Company")),
            Column(_("Host")),
            Column(_("Time"), max(cell_len(text) for text in times)),
            # The words say the state (the row's colour only repeats it): never cut.
            Column(_("Status"), max(cell_len(text) for text in _statuses())),
        ]

    def _list_label(self, name: ListName) -> str:
        count = len(getattr(self.day, name)) if self.day is not None else 0
        label = {
            "expected": _("Expected ({n})"),
            "on_site": _("On site ({n})"),
            "left": _("Left ({n})"),
        }[name]
        return label.format(n=count)

    def _status_text(self) -> str:
        if self.day is None:
            return _("Loading…")
        zone = self._zone()
        return _("Updated at {time}").format(
            time=local_time(self.day.generated_at, zone).strftime("%H:%M:%S")
        )

    def _zone(self) -> dt.tzinfo:
        session = self.kiosk.session
        return site_zone(session.time_zone if session is not None else "")

    def on_mount(self) -> None:
        self._show_table()
        self.set_interval(REFRESH_SECONDS, self._tick)
        self.refresh_day()
        if self._cache_for_session() is not None:
            from kiosk.roll_call_cache import REFRESH_SECONDS as CACHE_SECONDS

            # The first copy is fetched once the lists are drawn (`show_day`), so as not to
            # compete with them for the service and the terminal.
            self.set_interval(CACHE_SECONDS, self._keep_roll_call)

    async def relabel(self) -> None:
        await super().relabel()
        # The status column is translated text: build the rows again in the new language.
        self._build_rows()
        self._show_table()

    # Loading ----------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.refresh_day()

    def _tick(self) -> None:
        # Only while the desk is on top: a locked desk shows nothing, so it needs no update.
        if not self.is_current:
            return
        if self.typing():
            self._miss("day")
        else:
            self._fetch_day(periodic=True)

    def typing(self) -> bool:
        """True while the search box had a keystroke in the last `TYPING_PAUSE_SECONDS`."""
        return time.monotonic() - self._last_keystroke < TYPING_PAUSE_SECONDS

    def _miss(self, what: Literal["day", "roll-call"]) -> None:
        """Put a periodic refresh off until typing pauses."""
        self._missed.add(what)
        if self._catch_up is None:
            self._catch_up = self.set_timer(TYPING_PAUSE_SECONDS, self._typing_paused)

    def _typing_paused(self) -> None:
        self._catch_up = None
        if self.typing():
            wait = TYPING_PAUSE_SECONDS - (time.monotonic() - self._last_keystroke)
            self._catch_up = self.set_timer(max(0.05, wait), self._typing_paused)
            return
        missed, self._missed = self._missed, set()
        if "day" in missed and self.is_current:
            self._fetch_day(periodic=True)
        if "roll-call" in missed:
            self._keep_roll_call()

    def refresh_day(self) -> None:
        """Fetch today's lists (in a worker; an older fetch under way is dropped)."""
        self._fetch_day()

    @work(exclusive=True, exit_on_error=False, group="reception-day")
    async def _fetch_day(self, periodic: bool = False) -> None:
        day = await self.kiosk.api().reception_day()
        if periodic and self.typing():
            # Typing started while the answer was on its way: fetch again once it pauses.
            self._miss("day")
            return
        self.show_day(day)

    def show_day(self, day: ReceptionDay) -> None:
        """Show a fresh answer of the service (the search and the selection are kept). An
        answer whose lists are those on show only updates the time of the update."""
        previous, self.day = self.day, day
        self.refreshes += 1
        if previous is None or any(getattr(previous, n) != getattr(day, n) for n in LISTS):
            self._build_rows()
            self._show_table()
            for name in LISTS:
                self.query_one(f"#list-{name}", Button).label = self._list_label(name)
        self.query_one("#reception-status", Static).update(Content(self._status_text()))
        if previous is None and self._cache is not None:
            self.call_after_refresh(self._keep_roll_call)

    def _build_rows(self) -> None:
        # Only the list on show is turned into table rows now; the others when shown.
        self._table_rows = {}
        day = self.day
        if day is not None:
            self._rows = {row.visitor_id: row for name in LISTS for row in getattr(day, name)}

    def _rows_of(self, name: ListName) -> list[TableRow]:
        built = self._table_rows.get(name)
        if built is None:
            rows: list[ReceptionRow] = getattr(self.day, name) if self.day is not None else []
            zone = self._zone()
            # Companies and hosts repeat from row to row: each is cleaned once.
            cleaned: dict[str, str] = {}
            built = [self._table_row(row, name, zone, cleaned) for row in rows]
            self._table_rows[name] = built
        return built

    def _table_row(
        self, row: ReceptionRow, name: ListName, zone: dt.tzinfo, cleaned: dict[str, str]
    ) -> TableRow:
        window = f"{row.arrival_from:%H:%M}–{row.arrival_until:%H:%M}"
        if name == "expected":
            time = window
            if row.state == "requested":
                status = _("Walk-in, to approve") if row.walk_in else _("To approve")
            elif row.refused:
                status = _("Entry refused")
            elif row.held:
                status = _("Held: decide")
            else:
                status = _("Approved")
        elif name == "on_site":
            arrived = local_time(row.checked_in_at, zone) if row.checked_in_at else None
            time = _("in {time}").format(time=f"{arrived:%H:%M}") if arrived else ""
            status = _("Overdue") if row.overdue else _("On site")
        else:
            arrived = local_time(row.checked_in_at, zone) if row.checked_in_at else None
            left = local_time(row.checked_out_at, zone) if row.checked_out_at else None
            time = f"{arrived:%H:%M}–{left:%H:%M}" if arrived and left else ""
            status = _("Left")
        company = cleaned.get(row.company)
        if company is None:
            company = cleaned[row.company] = plain(row.company, max_length=NAME_WIDTH)
        host = cleaned.get(row.host_name)
        if host is None:
            host = cleaned[row.host_name] = plain(row.host_name, max_length=NAME_WIDTH)
        cells = (visitor_label(row), company, host, time, status)
        return TableRow(
            row.visitor_id,
            cells,
            marked=row.overdue or row.state == "requested" or row.held or row.refused,
            search=fold(" ".join(cells)),
        )

    def _table(self) -> VisitorTable:
        return self.query_one("#reception-table", VisitorTable)

    def _show_table(self) -> None:
        table = self._table()
        table.set_rows(self._rows_of(self.current))
        table.filter(self.query_text)
        self._update_actions()

    # Search and lists -------------------------------------------------------------------------

    @on(Input.Changed, "#reception-search")
    def _search(self, event: Input.Changed) -> None:
        event.stop()
        self._last_keystroke = time.monotonic()
        self.query_text = event.value
        self._table().filter(event.value)
        self._update_actions()

    @on(Input.Submitted, "#reception-search")
    def _search_done(self, event: Input.Submitted) -> None:
        event.stop()
        self._table().focus()

    def show_list(self, name: ListName) -> None:
        """Show the list `name` (expected, on_site, left)."""
        self.current = name
        for button in self.query("#reception-lists Button").results(Button):
            button.set_class(button.id == f"list-{name}", "-active")
        self._show_table()

    @on(VisitorTable.Highlighted, "#reception-table")
    def _highlighted(self, event: VisitorTable.Highlighted) -> None:
        event.stop()
        self._update_actions()

    @on(VisitorTable.Selected, "#reception-table")
    def _selected(self, event: VisitorTable.Selected) -> None:
        event.stop()
        self._update_actions()

    def selected_row(self) -> ReceptionRow | None:
        """The visitor under the cursor."""
        key = self._table().highlighted_key
        return self._rows.get(key) if key is not None else None

    def _update_actions(self) -> None:
        row = self.selected_row()
        state = row.state if row is not None else None
        allowed = {
            "check-in": self.current == "expected" and state == "approved",
            "check-out": self.current == "on_site",
            "reprint": self.current == "on_site",
            "approve": self.current == "expected" and state == "requested",
            "reject": self.current == "expected" and state == "requested",
            "photo": row is not None and row.has_photo,
        }
        for button_id, enabled in allowed.items():
            for button in self.query(f"#{button_id}").results(Button):
                button.disabled = row is None or not enabled

    # Actions ----------------------------------------------------------------------------------

    @on(Button.Pressed, ".list")
    def _list_pressed(self, event: Button.Pressed) -> None:
        for name in LISTS:
            if event.button.id == f"list-{name}":
                self.show_list(name)

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.action_back()

    @on(Button.Pressed, "#walk-in")
    def _walk_in(self) -> None:
        from kiosk.screens.walk_in_desk import WalkInDeskScreen

        self.app.push_screen(WalkInDeskScreen(), self._walk_in_done)

    @on(Button.Pressed, "#roll-call")
    def _roll_call(self) -> None:
        from kiosk.screens.roll_call import RollCallScreen

        self.app.push_screen(RollCallScreen())

    @on(Button.Pressed, "#cash")
    def _cash(self) -> None:
        self.open_screen("kiosk.screens.desk_cash:DeskCashScreen")

    @on(Button.Pressed, "#photo")
    def _photo_pressed(self) -> None:
        row = self.selected_row()
        if row is not None and row.has_photo:
            self.set_busy(True)
            self._show_photo(row.visitor_id, visitor_label(row))

    @work(exclusive=True, exit_on_error=False, group="reception-decide")
    async def _show_photo(self, visitor_id: int, name: str) -> None:
        """The visitor's check-in still."""
        from kiosk.screens.visitor_photo import show_still

        jpeg = await self.kiosk.api().reception_visitor_photo(visitor_id)
        await show_still(self, jpeg, name)

    @on(Button.Pressed, "#watchlist")
    def _watchlist(self) -> None:
        self.open_screen("kiosk.screens.watchlist:WatchlistScreen")

    @on(Button.Pressed, "#check-in, #check-out, #reprint, #approve")
    def _row_action(self, event: Button.Pressed) -> None:
        row = self.selected_row()
        if row is not None:
            self._act(event.button.id or "", row)

    @on(Button.Pressed, "#reject")
    def _reject_pressed(self) -> None:
        from kiosk.screens.reject_visit import RejectVisitScreen

        row = self.selected_row()
        if row is None:
            return
        visit_id = row.visit_id
        self.app.push_screen(
            RejectVisitScreen(visitor_label(row)),
            lambda reason: self._rejected(visit_id, reason),
        )

    def _rejected(self, visit_id: int, reason: str | None) -> None:
        if reason:
            self._reject(visit_id, reason)

    def _walk_in_done(self, name: str | None) -> None:
        if name:
            self.show_message(
                _("{name} is registered. The visit waits for approval.").format(name=name)
            )
            self.refresh_day()

    @work(exclusive=True, exit_on_error=False, group="reception-action")
    async def _reject(self, visit_id: int, reason: str) -> None:
        await self.kiosk.api().reject_visit(visit_id, reason)
        self.show_message(_("The request is rejected."))
        self.refresh_day()

    def _act(self, action: str, row: ReceptionRow) -> None:
        self.set_busy(True)
        if action == "check-in" and (row.held or row.refused):
            self._decide(row.visitor_id, row.visit_id, visitor_label(row), row.host_name)
            return
        self._run_action(action, row.visitor_id, row.visit_id, visitor_label(row))

    @work(exclusive=True, exit_on_error=False, group="reception-decide")
    async def _decide(self, visitor_id: int, visit_id: int, name: str, host: str) -> None:
        """A check-in the watchlist holds: reception sees why, then lets in or refuses."""
        from kiosk.screens.watchlist import HeldVisitorScreen

        hold = await self.kiosk.api().visitor_hold(visitor_id)

        def decided(decision: str | None) -> None:
            if decision is not None:
                self.set_busy(True)
                self._run_action(decision, visitor_id, visit_id, name)

        host_text = plain(host, max_length=NAME_WIDTH)
        self.app.push_screen(HeldVisitorScreen(name, host_text, hold), decided)

    @work(exclusive=True, exit_on_error=False, group="reception-action")
    async def _run_action(self, action: str, visitor_id: int, visit_id: int, name: str) -> None:
        api = self.kiosk.api()
        if action == "check-in":
            try:
                badge = await api.reception_check_in(visitor_id)
            except ProblemError as exc:
                if exc.code != "check-in-held":
                    raise
                # Held just now (an entry added since the list was fetched).
                self.refresh_day()
                host = self._rows[visitor_id].host_name if visitor_id in self._rows else ""
                self._decide(visitor_id, visit_id, name, host)
                return
            outcome = await self._print(badge)
            self.show_message(_("{name} is checked in.").format(name=name) + _said(outcome))
        elif action == "release":
            badge = await api.release_visitor(visitor_id)
            outcome = await self._print(badge)
            self.show_message(
                _("{name} is let in and checked in.").format(name=name) + _said(outcome)
            )
        elif action == "refuse":
            await api.refuse_visitor(visitor_id)
            self.show_message(_("Entry refused to {name}.").format(name=name))
        elif action == "check-out":
            await api.reception_check_out(visitor_id)
            self.show_message(_("{name} is checked out.").format(name=name))
        elif action == "reprint":
            badge = await api.visitor_badge(visitor_id)
            outcome = await self._print(badge)
            self.show_message(_said(outcome).strip())
            self._show_unprinted(badge, outcome)
        elif action == "approve":
            await api.approve_visit(visit_id)
            self.show_message(_("The visit is approved; the invitations are sent."))
        self.refresh_day()

    def _show_unprinted(self, badge: VisitorBadge, outcome: PrintOutcome) -> None:
        """A badge asked for again that no printer took is shown on screen, its check-out QR
        included, for the visitor to photograph (Finish comes back here)."""
        if outcome.printed:
            return
        from kiosk.screens.visitor_badge import DeskVisitorBadgeScreen

        self.app.push_screen(DeskVisitorBadgeScreen(badge, outcome))

    async def _print(self, badge: VisitorBadge) -> PrintOutcome:
        """Print the visitor's badge when a printer is set, with their still if they have one
        (the printer prints it where it can)."""
        from babel.dates import format_date

        from kiosk.i18n import get_language
        from kiosk.printing import PrintOutcome, VisitorBadgePrint, print_badge

        printer = self.kiosk.settings.printer
        if printer.kind == "none":
            return PrintOutcome("no-printer")
        row = self._rows.get(badge.visitor_id)
        photo = None
        if row is None or row.has_photo:
            try:
                photo = await self.kiosk.api().reception_visitor_photo(badge.visitor_id)
            except ApiError:  # the visitor is checked in: the badge goes out without it
                photo = None
        job = VisitorBadgePrint(
            name=f"{badge.first_name} {badge.last_name}",
            host=badge.host_name,
            date_text=format_date(badge.day, "long", locale=get_language()),
            checkout_token=badge.checkout_token,
            site_name=badge.site.name,
            company=badge.company,
            photo=photo,
        )
        return await asyncio.to_thread(print_badge, printer, job)

    def action_back(self) -> None:
        self.dismiss()

    # The roll call's local copy ---------------------------------------------------------------

    def _cache_for_session(self) -> RollCallCache | None:
        if self._cache is None:
            session = self.kiosk.session
            if session is None:
                return None
            from kiosk.roll_call_cache import RollCallCache

            self._cache = RollCallCache(self.kiosk.settings.resolved_data_dir(), session.site_code)
        return self._cache

    def _keep_roll_call(self) -> None:
        if self.typing():
            self._miss("roll-call")
            return
        self.run_worker(
            self._save_roll_call(), group="roll-call-cache", exclusive=True, exit_on_error=False
        )

    async def _save_roll_call(self) -> None:
        cache = self._cache_for_session()
        if cache is None:
            return
        from kiosk.api.errors import ApiError

        try:
            roll_call = await self.kiosk.api().roll_call()
        except ApiError:
            # The copy stays as it was: it is what the roll call shows while the service is down.
            return
        await asyncio.to_thread(cache.save, roll_call)


def _said(outcome: PrintOutcome) -> str:
    """What became of the badge, as a sentence to add to the desk's message."""
    if outcome.printed:
        return " " + _("The badge is printed.")
    if outcome.status == "no-printer":
        return " " + _("No printer is set: the badge is not printed.")
    return " " + _("The printer is not available: the badge is not printed.")


def _statuses() -> tuple[str, ...]:
    """Every status a row of the desk can show, in the current language."""
    return (
        _("Status"),
        _("Walk-in, to approve"),
        _("To approve"),
        _("Entry refused"),
        _("Held: decide"),
        _("Approved"),
        _("Overdue"),
        _("On site"),
        _("Left"),
    )
