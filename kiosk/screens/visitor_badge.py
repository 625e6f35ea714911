"""The visitor badge after check-in: printed when the kiosk has a printer, else (or when the
printer failed) shown on screen with the QR code the visitor scans when leaving."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.geometry import Size
from textual.widgets import Button, Static

from kiosk.format import day_in_words
from kiosk.i18n import _
from kiosk.screens.base import IdleKind, KioskScreen
from kiosk.text import plain
from kiosk.visitors import NAME_MAX, visitor_name
from kiosk.widgets.qr_view import QrView

if TYPE_CHECKING:
    from kiosk.api.models import VisitorBadge
    from kiosk.printing import PrintOutcome


COMPACT_WIDTH = 100
"""Narrower terminals get the compact layout (`-compact`)."""
COMPACT_HEIGHT = 30
"""So do shorter ones."""


class VisitorBadgeScreen(KioskScreen):
    """The checked-in visitor's badge: name, company, host, date and, unless it was printed,
    the check-out QR."""

    IDLE: ClassVar[IdleKind] = "visitor"
    AUTO_FOCUS = "#finish"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "finish", "Finish", show=False, id="visitor_badge.finish"),
    ]

    FOR_DESK: ClassVar[bool] = False
    """Shown by the reception desk (a badge it could not print): Finish goes back to the desk,
    whose session goes on."""

    def __init__(self, badge: VisitorBadge, printed: PrintOutcome) -> None:
        super().__init__()
        self.badge = badge
        self.printed = printed
        """What became of the printout."""

    @property
    def shows_qr(self) -> bool:
        """The QR is on screen when no printed badge carries it."""
        return not self.printed.printed

    def compose(self) -> ComposeResult:
        badge = self.badge
        self.set_class(self.shows_qr, "-on-screen")
        if self.printed.status == "unavailable":
            self.message = _(
                "The badge could not be printed. Take a photo of this QR code, or ask the "
                "reception desk for a printed badge."
            )
        with Vertical(id="visitor-badge-body", classes="panel"):
            title = _("Visitor badge") if self.FOR_DESK else _("Welcome! You are checked in.")
            yield Static(title, classes="title", markup=False)
            # The QR is 19 rows tall (a 44-character token is a version-3 code: 29 modules and
            # the quiet zone, two modules a row), so on an 80×24 terminal nothing else fits
            # above or below it: every line of text and the Finish button go beside it.
            with Horizontal(id="visitor-badge-card"):
                with Vertical(id="visitor-badge-details"):
                    yield from self._details(badge)
                    if self.shows_qr:
                        hint = _("Scan this QR code when you leave (or type your invitation code).")
                    else:
                        hint = _(
                            "Your badge is printing. Keep it with you and scan it when you leave."
                        )
                    yield Static(hint, id="visitor-badge-hint", classes="hint", markup=False)
                    yield self.message_widget()
                    with Horizontal(classes="actions"):
                        yield Button(_("Finish"), id="finish", variant="primary")
                if self.shows_qr:
                    yield QrView(badge.checkout_token, id="visitor-badge-qr")

    def _details(self, badge: VisitorBadge) -> ComposeResult:
        yield Static(_("VISITOR"), id="visitor-badge-kind", markup=False)
        yield Static(
            Content(visitor_name(badge.first_name, badge.last_name)),
            id="visitor-badge-name",
            classes="detail",
            markup=False,
        )
        if badge.company.strip():
            yield Static(
                Content(plain(badge.company, max_length=NAME_MAX)),
                id="visitor-badge-company",
                classes="detail",
                markup=False,
            )
        yield Static(
            Content(_("Host: %(host)s") % {"host": plain(badge.host_name, max_length=NAME_MAX)}),
            id="visitor-badge-host",
            classes="detail",
            markup=False,
        )
        yield Static(
            Content(day_in_words(badge.day)), id="visitor-badge-day", classes="detail", markup=False
        )
        yield Static(
            Content(plain(badge.site.name, max_length=NAME_MAX)),
            id="visitor-badge-site",
            classes="detail",
            markup=False,
        )

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size)

    def on_mount(self) -> None:
        self._fit(self.app.size)

    def _fit(self, size: Size) -> None:
        """Below a kiosk size the panel takes the whole width, and each detail keeps to one
        line (cut with an ellipsis), so that the column beside the QR stays within its rows."""
        self.set_class(size.width < COMPACT_WIDTH or size.height < COMPACT_HEIGHT, "-compact")

    def action_finish(self) -> None:
        if self.FOR_DESK:
            self.dismiss()
        else:
            self.kiosk.end_session()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "finish":
            self.action_finish()


class DeskVisitorBadgeScreen(VisitorBadgeScreen):
    """A badge the reception desk could not print, on screen for the visitor to photograph;
    the desk's own idle time applies, and Finish goes back to the desk."""

    IDLE: ClassVar[IdleKind] = "default"
    FOR_DESK = True
