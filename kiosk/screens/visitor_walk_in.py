"""A visitor without an invitation asks for their host. They type the first letters of the
host's name and pick them among the few names that match (names only, five at most, none before
three letters; a site may turn this off, and the full name is then typed exactly). The host (or
reception) is asked to confirm; the visitor waits here while the kiosk asks the service every
few seconds, then goes on to the visit and its rules."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, ClassVar, Literal

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from kiosk.i18n import _, get_language
from kiosk.problems import problem_text
from kiosk.screens.base import BACKGROUND_GROUP, IdleKind, KioskScreen
from kiosk.screens.visitor_visit import VisitorVisitScreen
from kiosk.text import fold, plain
from kiosk.visitors import NAME_MAX, DeskCredentials, visitor_error_text

if TYPE_CHECKING:
    from kiosk.api.models import DeskVisit

Stage = Literal["form", "waiting", "declined", "timed-out"]

MIN_HOST_QUERY = 3
"""Letters typed before names are offered (the service offers none before)."""

# Answers that mean "not yet": the host has not confirmed.
_NOT_YET = frozenset({"invitation-not-approved"})
# Answers that mean the host (or reception) said no, or the request is over.
_DECLINED = frozenset({"invitation-cancelled", "invitation-expired", "invitation-unknown"})


class VisitorWalkInScreen(KioskScreen):
    """The walk-in's name, company and host; then waiting for the host's answer."""

    IDLE: ClassVar[IdleKind] = "visitor"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="visitor_walk_in.back"),
    ]
    POLL_SECONDS: ClassVar[float] = 3.0
    """How often the kiosk asks whether the host confirmed."""
    SEARCH_PAUSE: ClassVar[float] = 0.25
    """How long typing pauses before the names matching it are asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.wait_seconds = 180.0
        """How long the visitor waits for the answer before being sent to the reception desk:
        the site's choice, given with the request."""
        self.stage: Stage = "form"
        """Filling the form, waiting for the host, or told to ask reception."""
        self.host_name = ""
        """The host's name as the service knows it (once the request is made)."""
        self._credentials: DeskCredentials | None = None
        self._search_off = False
        """The site keeps its people unlisted: the host's full name is typed exactly."""
        self._offered: list[str] = []
        """The names the list of hosts shows."""

    def compose(self) -> ComposeResult:
        with Vertical(id="visitor-walk-in-body", classes="panel"):
            if self.stage == "form":
                yield from self._compose_form()
            else:
                yield from self._compose_waiting()

    def _compose_form(self) -> ComposeResult:
        yield Static(_("No invitation? Ask for your host"), classes="title", markup=False)
        yield Static(
            _("Type your name and your host's first and last name, as they are written.")
            if self._search_off
            else _("Type your name, then the first letters of your host's name and pick them."),
            classes="hint",
            markup=False,
        )
        if len(self.kiosk.sites) > 1:
            # The terminal knows its sites: the visitor picks theirs by name (a solution code
            # is for the people who work there), first, as the host is looked up on it.
            yield Select(
                [(Content(name), code) for code, name in self.kiosk.sites],
                prompt=_("The site you are visiting"),
                id="walk-in-site",
                classes="while-idle",
                compact=True,
            )
        # Each field has its label above it, which stays while typing (a placeholder vanishes).
        for ident, label, limit in (
            ("walk-in-first-name", _("Your first name"), 100),
            ("walk-in-last-name", _("Your last name"), 100),
            ("walk-in-company", _("Your company (optional)"), 100),
            ("walk-in-host", _("Your host's first and last name"), 200),
        ):
            yield Static(label, classes="field-label", markup=False)
            yield Input(id=ident, max_length=limit, compact=True, classes="while-idle")
        # The names matching what is typed, drawn over what follows the host's field (as a
        # Select's list is), so that the form keeps its place at 80×24.
        yield OptionList(id="walk-in-hosts", markup=False)
        yield self.message_widget()
        with Horizontal(classes="actions"):
            yield Button(_("Back"), id="back")
            yield Button(
                _("Ask my host"), id="walk-in-send", variant="primary", classes="while-idle"
            )

    def _compose_waiting(self) -> ComposeResult:
        host = plain(self.host_name, max_length=NAME_MAX)
        if self.stage == "waiting":
            yield Static(_("Please wait"), classes="title", markup=False)
            yield Static(
                Content(
                    _("%(host)s has been asked to confirm your visit. Please wait here.")
                    % {"host": host}
                ),
                id="walk-in-waiting",
                markup=False,
            )
        else:
            yield Static(_("Please ask the reception desk"), classes="title", markup=False)
            if self.stage == "declined":
                text = _("Your visit could not be confirmed. Please ask the reception desk.")
            else:
                text = _("%(host)s has not answered yet. Please ask the reception desk.") % {
                    "host": host
                }
            yield Static(Content(text), id="walk-in-waiting", markup=False)
        yield self.message_widget()
        with Horizontal(classes="actions"):
            yield Button(_("Finish") if self.stage != "waiting" else _("Cancel"), id="finish")

    def on_mount(self) -> None:
        # The first field: the site, on a terminal that serves several.
        for first in self.query("#walk-in-site, #walk-in-first-name"):
            first.focus()
            break

    # The form ------------------------------------------------------------------------------

    def action_back(self) -> None:
        if self.stage == "form":
            self.dismiss()
        else:
            self.kiosk.end_session()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "walk-in-host" and self._must_pick(event.value):
            self._ask_to_pick()
            return
        if event.input.id == "walk-in-host":
            self._send()  # the field keeps the focus, to correct the name if it is refused
        else:
            self.focus_next()

    # Picking the host ----------------------------------------------------------------------

    def _hosts_list(self) -> OptionList:
        return self.query_one("#walk-in-hosts", OptionList)

    def _ask_to_pick(self) -> None:
        options = self._hosts_list()
        options.highlighted = 0
        options.focus()
        self.show_message(_("Pick your host in the list."))

    def _must_pick(self, typed: str) -> bool:
        """Names are offered and what is typed is none of them: sending it would only be
        refused (and count against the terminal)."""
        return bool(self._offered) and not self._is_offered(typed)

    def _is_offered(self, typed: str) -> bool:
        wanted = fold(typed).split()
        return any(fold(name).split() == wanted for name in self._offered)

    @on(Input.Changed, "#walk-in-host")
    def _host_typed(self, event: Input.Changed) -> None:
        event.stop()
        if self._search_off or self._is_offered(event.value):
            return
        self._show_hosts([], more=False)
        self.show_message("")
        if len(fold(event.value).replace(" ", "")) >= MIN_HOST_QUERY:
            self._find_hosts(event.value)
        else:
            self.workers.cancel_group(self, BACKGROUND_GROUP)

    @work(exclusive=True, exit_on_error=False, group=BACKGROUND_GROUP)
    async def _find_hosts(self, typed: str) -> None:
        """Ask for the names matching `typed`, once the visitor paused typing. A failure leaves
        the list empty: the full name can still be typed."""
        from kiosk.api.errors import ProblemError, ServiceUnavailable

        await asyncio.sleep(self.SEARCH_PAUSE)
        solution = self._chosen_site()
        if solution is None and len(self.kiosk.sites) > 1:
            self.show_message(_("Choose the site you are visiting."))
            return
        try:
            found = await self.kiosk.api().desk_hosts(typed, solution)
        except ProblemError as error:
            if error.code == "host-search-off":
                self._search_off = True
                for hint in self.query(".hint").results(Static):
                    hint.update(problem_text("host-search-off"))
            return
        except ServiceUnavailable:
            return
        self._show_hosts(found.names, more=found.more)
        if not found.names:
            self.show_message(_("Nobody here has a name beginning with these letters."))

    def _show_hosts(self, names: list[str], *, more: bool) -> None:
        self._offered = list(names)
        options = self._hosts_list()
        options.clear_options()
        # Names come from the service's records: text, never markup.
        options.add_options([Option(Content(name), id=f"host-{i}") for i, name in enumerate(names)])
        if more:
            options.add_option(
                Option(Content(_("More names match: type more letters.")), disabled=True)
            )
        options.display = bool(names)

    def on_key(self, event: events.Key) -> None:
        focused = self.focused
        if (
            event.key == "down"
            and isinstance(focused, Input)
            and focused.id == "walk-in-host"
            and self._offered
        ):
            event.stop()
            self._hosts_list().highlighted = 0
            self._hosts_list().focus()

    @on(OptionList.OptionSelected, "#walk-in-hosts")
    def _host_picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        name = self._offered[event.option_index]
        host = self.query_one("#walk-in-host", Input)
        with host.prevent(Input.Changed):
            host.value = name
        self._offered = [name]
        self._hosts_list().display = False
        self.show_message("")
        self.query_one("#walk-in-send", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button.id
        if button == "back":
            self.dismiss()
        elif button == "finish":
            self.kiosk.end_session()
        elif button == "walk-in-send":
            self._send()

    def _value(self, selector: str) -> str:
        for widget in self.query(selector).results(Input):
            return widget.value.strip()
        return ""

    def _send(self) -> None:
        first, last = self._value("#walk-in-first-name"), self._value("#walk-in-last-name")
        host = self._value("#walk-in-host")
        if not first or not last:
            self.show_message(_("Type your first and last name."))
            return
        if not host:
            self.show_message(_("Type your host's first and last name."))
            return
        if self._must_pick(host):
            self._ask_to_pick()
            return
        solution: str | None = None
        if len(self.kiosk.sites) > 1:
            solution = self._chosen_site()
            if solution is None:
                self.show_message(_("Choose the site you are visiting."))
                return
        self.workers.cancel_group(self, BACKGROUND_GROUP)
        self.show_message(_("Asking your host…"))
        self.set_busy(True)
        self.ask_host(first, last, self._value("#walk-in-company"), host, solution)

    def _chosen_site(self) -> str | None:
        for select in self.query("#walk-in-site").results(Select):
            chosen = select.value
            return chosen if isinstance(chosen, str) else None
        return None

    # The service ---------------------------------------------------------------------------

    @work(exclusive=True, exit_on_error=False, group="api")
    async def ask_host(
        self, first: str, last: str, company: str, host: str, solution: str | None
    ) -> None:
        """Create the walk-in's request, then wait for the host's answer."""
        from kiosk.api.models import VisitorInput

        created = await self.kiosk.api().desk_walk_in(
            VisitorInput(first_name=first, last_name=last, company=company), host, solution
        )
        self._credentials = DeskCredentials(token=created.invitation_token)
        self.wait_seconds = float(created.wait_seconds)
        self.host_name = created.host_name
        self.stage = "waiting"
        self.message = ""
        await self.redraw()
        self.wait_for_host()

    @work(exclusive=True, exit_on_error=False, group="wait")
    async def wait_for_host(self) -> None:
        """Ask every `POLL_SECONDS` whether the visit was approved, for as long as the site
        lets a walk-in wait (`wait_seconds`, from the service)."""
        from kiosk.api.errors import ProblemError, ServiceUnavailable

        credentials = self._credentials
        if credentials is None:
            return
        deadline = time.monotonic() + self.wait_seconds
        visit: DeskVisit | None = None
        while time.monotonic() < deadline:
            # Waiting for the host is being there: the visitor screens' idle time must not end
            # the wait (the wait has its own limit).
            self.kiosk.note_activity()
            try:
                visit = await self.kiosk.api().desk_lookup(
                    language=get_language(), **credentials.as_arguments()
                )
                break
            except ServiceUnavailable:
                pass  # the next round will tell
            except ProblemError as error:
                if error.code in _DECLINED:
                    await self._stop_waiting("declined")
                    return
                if error.code not in _NOT_YET:
                    raise
            await asyncio.sleep(self.POLL_SECONDS)
        if visit is None:
            await self._stop_waiting("timed-out")
            return
        self.app.switch_screen(VisitorVisitScreen(credentials, visit))

    async def _stop_waiting(self, stage: Stage) -> None:
        self.stage = stage
        self._credentials = None
        await self.redraw()

    def on_problem(self, error: BaseException | None) -> None:
        self.show_message(visitor_error_text(error))
