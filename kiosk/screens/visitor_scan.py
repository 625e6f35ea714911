"""A visitor scans their invitation's QR code (arriving) or their visitor badge (leaving): the
same token, and the service says which. Other codes get a calm, specific message and the scan
goes on. The camera machinery is `CameraScanScreen`'s, shared with the sign-in scan."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from kiosk.i18n import N_, _, get_language
from kiosk.qr_payload import ScannedKind, classify_scanned
from kiosk.scanner.results import SourceState
from kiosk.screens.base import IdleKind
from kiosk.screens.camera_scan import CameraScanScreen
from kiosk.screens.visitor_visit import VisitorVisitScreen
from kiosk.visitors import DeskCredentials, visitor_error_text
from kiosk.widgets.camera_preview import CameraPreview

STATUS_MESSAGES: dict[SourceState, str] = {
    SourceState.OPENING: N_("Starting the camera…"),
    SourceState.RUNNING: N_(
        "Hold the QR code of your invitation (or your visitor badge) in front of the camera."
    ),
    SourceState.NO_CAMERA: N_("No camera is available. Go back and type your invitation code."),
    SourceState.UNREADABLE: N_("No camera is available. Go back and type your invitation code."),
    SourceState.CAMERA_BUSY: N_(
        "The camera is being used by another program. Go back and type your invitation code."
    ),
    SourceState.NO_PERMISSION: N_(
        "This kiosk may not use its camera. Go back and type your invitation code."
    ),
    SourceState.ENDED: N_("The camera stopped. Go back to scan again or type your code."),
    SourceState.STOPPED: N_("The camera stopped. Go back to scan again or type your code."),
}
"""What a visitor reads for each state of the camera."""

SCANNED_MESSAGES: dict[ScannedKind, str] = {
    ScannedKind.CONNECT: N_(
        "This is an employee's connection QR code, not an invitation. Employees: use "
        "“Sign in” on the welcome screen."
    ),
    ScannedKind.BADGE: N_(
        "This is an employee badge, not an invitation. Scan the QR code of your invitation."
    ),
    ScannedKind.URL: N_(
        "This QR code holds a web address, not an invitation. Scan the QR code of your invitation."
    ),
    ScannedKind.TEXT: N_("This QR code is not an invitation. Scan the QR code of your invitation."),
    ScannedKind.EMPTY: N_(
        "This QR code is not an invitation. Scan the QR code of your invitation."
    ),
    ScannedKind.OVERSIZED: N_(
        "This QR code holds far too much to be an invitation. Scan the QR code of your invitation."
    ),
    ScannedKind.CONTROL_CHARACTERS: N_(
        "This QR code holds unexpected characters. Scan the QR code of your invitation."
    ),
}
"""What a visitor reads for a scanned code that is not an invitation (its text is never
shown)."""


class VisitorScanScreen(CameraScanScreen):
    """The camera's preview; an invitation in view is looked up and its visit shown."""

    IDLE: ClassVar[IdleKind] = "visitor"
    AUTO_FOCUS = "#back"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="visitor_scan.back"),
    ]
    STATUS_MESSAGES: ClassVar[dict[SourceState, str]] = STATUS_MESSAGES

    def __init__(self) -> None:
        super().__init__()
        self.looking_up = False
        """True while a scanned invitation is with the service (further codes wait)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="visitor-scan-body", classes="panel"):
            yield Static(_("Scan your invitation"), classes="title", markup=False)
            yield CameraPreview(id="scan-preview")
            yield Static(self.status_text(), id="scan-status", markup=False)
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back")

    def on_scanned_text(self, text: str) -> None:
        if self.looking_up:
            return
        kind = classify_scanned(text)
        if kind is ScannedKind.INVITATION:
            self.looking_up = True
            self.show_message(_("Looking for your visit…"))
            self.set_busy(True)
            self.look_up(DeskCredentials(token=text))
        else:
            self.show_message(_(SCANNED_MESSAGES[kind]))

    @work(exclusive=True, exit_on_error=False, group="api")
    async def look_up(self, credentials: DeskCredentials) -> None:
        """Ask the service for the visit behind the invitation, then show it."""
        visit = await self.kiosk.api().desk_lookup(
            language=get_language(), **credentials.as_arguments()
        )
        self.stop_camera()
        self.app.switch_screen(VisitorVisitScreen(credentials, visit))

    def on_problem(self, error: BaseException | None) -> None:
        # The scan goes on: the next code in view is read.
        self.looking_up = False
        self.show_message(visitor_error_text(error))

    def action_back(self) -> None:
        self.dismiss()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.dismiss()
