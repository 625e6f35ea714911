"""The visit a visitor presented (scanned or typed): who they are, their host, when and where;
the site's rules to accept; then check-in (and the visitor badge) or check-out (goodbye).

Everything shown came from the service and is shown as plain text. The visitor's credentials
and visit live on this screen only: leaving it for welcome drops them.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, ClassVar, Literal

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Checkbox, Static

from kiosk.format import day_in_words, time_of_day
from kiosk.i18n import _, get_language
from kiosk.screens.base import IdleKind, KioskScreen
from kiosk.text import plain
from kiosk.visitors import (
    NAME_MAX,
    DeskCredentials,
    visit_day_text,
    visitor_error_text,
    visitor_name,
)
from kiosk.widgets.tick_box import TickBox

if TYPE_CHECKING:
    from kiosk.api.models import DeskVisit

RULES_MAX = 4000
GOODBYE_SECONDS = 10.0
"""How long "goodbye" stays before the kiosk is back at welcome."""


def rules_content(rules: str) -> Content:
    """The site's rules as plain text, their line breaks kept."""
    lines = [plain(line) for line in rules[:RULES_MAX].splitlines()]
    return Content("\n".join(lines))


Stage = Literal["visit", "checking", "goodbye"]


class VisitorVisitScreen(KioskScreen):
    """Shows the visit, asks for the rules, and checks the visitor in or out."""

    IDLE: ClassVar[IdleKind] = "visitor"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "finish", "Cancel", show=False, id="visitor_visit.cancel"),
    ]

    def __init__(self, credentials: DeskCredentials, visit: DeskVisit) -> None:
        super().__init__()
        self.credentials = credentials
        self.visit = visit
        self.rules_accepted = False
        """The visitor ticked "I accept the rules"."""
        self.stage: Stage = "visit"
        """Where the visitor stands: reading, being checked in or out, or gone."""
        self.action_key = str(uuid.uuid4())
        """The idempotency key of this screen's check-in or check-out, the same on every try: a
        try whose answer was lost is answered again, not refused as an invitation already
        used."""

    def compose(self) -> ComposeResult:
        visit = self.visit
        leaving = visit.action == "check_out"
        with Vertical(id="visitor-visit-body", classes="panel"):
            if self.stage == "goodbye":
                yield Static(_("Goodbye, thank you for your visit!"), classes="title", markup=False)
                yield Static(
                    Content(visitor_name(visit.first_name, visit.last_name)),
                    id="visitor-name",
                    markup=False,
                )
                yield self.message_widget()
                with Horizontal(classes="actions"):
                    yield Button(_("Finish"), id="finish", variant="primary")
                return
            title = _("Leaving?") if leaving else _("Your visit")
            yield Static(title, classes="title", markup=False)
            yield Static(
                Content(visitor_name(visit.first_name, visit.last_name)),
                id="visitor-name",
                markup=False,
            )
            if visit.company.strip():
                yield Static(
                    Content(plain(visit.company, max_length=NAME_MAX)),
                    id="visitor-company",
                    markup=False,
                )
            yield Static(
                Content(
                    _("Host: %(host)s") % {"host": plain(visit.host_name, max_length=NAME_MAX)}
                ),
                id="visitor-host",
                markup=False,
            )
            yield Static(
                Content(
                    _("%(day)s, arrival between %(start)s and %(end)s")
                    % {
                        "day": visit_day_text(visit),
                        "start": time_of_day(visit.arrival_from),
                        "end": time_of_day(visit.arrival_until),
                    }
                ),
                id="visitor-when",
                markup=False,
            )
            if visit.place.strip():
                yield Static(
                    Content(
                        _("Place: %(place)s") % {"place": plain(visit.place, max_length=NAME_MAX)}
                    ),
                    id="visitor-place",
                    markup=False,
                )
            if not leaving:
                yield Static(_("The site's rules"), classes="subtitle", markup=False)
                with VerticalScroll(id="visitor-rules"):
                    yield Static(rules_content(visit.rules), markup=False)
                yield TickBox(
                    _("I have read and accept the site's rules"),
                    self.rules_accepted,
                    id="visitor-accept",
                    classes="while-idle",
                )
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Cancel"), id="finish", classes="while-idle")
                if leaving:
                    yield Button(
                        _("Check out"),
                        id="visitor-check-out",
                        variant="primary",
                        classes="while-idle",
                    )
                else:
                    yield Button(
                        _("Check in"),
                        id="visitor-check-in",
                        variant="primary",
                        classes="while-idle",
                    )

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.rules_accepted = event.value
        if event.value:
            self.show_message("")

    def action_finish(self) -> None:
        self.kiosk.end_session()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button.id
        if button == "finish":
            self.kiosk.end_session()
        elif button == "visitor-check-in":
            if not self.rules_accepted:
                self.show_message(_("Please read and accept the site's rules first."))
                return
            if self.visit.photo != "off":
                from kiosk.screens.visitor_photo import VisitorPhotoScreen

                self.app.push_screen(
                    VisitorPhotoScreen(self.visit.photo, self.kiosk.settings.camera.source),
                    self._photo_chosen,
                )
                return
            self._start_check_in(None)
        elif button == "visitor-check-out":
            self.stage = "checking"
            self.show_message(_("Checking you out…"))
            self.set_busy(True)
            self.check_out()

    def _photo_chosen(self, choice: tuple[str, bytes | None] | None) -> None:
        if choice is not None:
            self._start_check_in(choice[1])

    def _start_check_in(self, photo: bytes | None) -> None:
        self.stage = "checking"
        self.show_message(_("Checking you in…"))
        self.set_busy(True)
        self.check_in(photo)

    # The service ---------------------------------------------------------------------------

    @work(exclusive=True, exit_on_error=False, group="api")
    async def check_in(self, photo: bytes | None = None) -> None:
        """Check in (with the visitor's still, where the site asks for one), print the badge if
        the kiosk has a printer, then show the badge."""
        from kiosk.printing import VisitorBadgePrint, print_badge
        from kiosk.screens.visitor_badge import VisitorBadgeScreen

        badge = await self.kiosk.api().desk_check_in(
            rules_accepted=True,
            language=get_language(),
            idempotency_key=self.action_key,
            photo=photo,
            **self.credentials.as_arguments(),
        )
        printout = VisitorBadgePrint(
            name=visitor_name(badge.first_name, badge.last_name),
            host=badge.host_name,
            date_text=day_in_words(badge.day),
            checkout_token=badge.checkout_token,
            site_name=badge.site.name,
            company=badge.company,
            photo=photo,
        )
        # Printing blocks on the device (a network printer may take seconds to refuse).
        outcome = await asyncio.to_thread(print_badge, self.kiosk.settings.printer, printout)
        self.app.switch_screen(VisitorBadgeScreen(badge, outcome))

    @work(exclusive=True, exit_on_error=False, group="api")
    async def check_out(self) -> None:
        """Check out, then say goodbye and go back to welcome a little later."""
        await self.kiosk.api().desk_check_out(
            idempotency_key=self.action_key, **self.credentials.as_arguments()
        )
        self.stage = "goodbye"
        self.message = ""
        await self.redraw()
        self.set_timer(GOODBYE_SECONDS, self._goodbye_done)

    def _goodbye_done(self) -> None:
        if self.is_current:
            self.kiosk.end_session()

    def on_problem(self, error: BaseException | None) -> None:
        self.stage = "visit"
        self.show_message(visitor_error_text(error))
