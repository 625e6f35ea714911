"""Signing in by scanning the connect QR of a welcome letter, with a live preview to aim by.

The camera machinery (thread worker, preview, states, release) is `CameraScanScreen`'s. A
connect QR goes to the service, and the sign-in goes on exactly as after typing the identifier;
anything else gets a calm, specific message and the scan goes on.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from kiosk.i18n import N_, _
from kiosk.problems import problem_text
from kiosk.qr_payload import ScannedKind, classify_scanned
from kiosk.scanner.results import SourceState
from kiosk.screens.base import IdleKind, SignIn, continue_sign_in
from kiosk.screens.camera_scan import CameraScanScreen
from kiosk.widgets.camera_preview import CameraPreview

STATUS_MESSAGES: dict[SourceState, str] = {
    SourceState.OPENING: N_("Starting the camera…"),
    SourceState.RUNNING: N_("Hold the QR code of your welcome letter in front of the camera."),
    SourceState.NO_CAMERA: N_("No camera is available. Type your identifier instead."),
    SourceState.UNREADABLE: N_("No camera is available. Type your identifier instead."),
    SourceState.CAMERA_BUSY: N_(
        "The camera is being used by another program. Type your identifier instead."
    ),
    SourceState.NO_PERMISSION: N_(
        "This kiosk may not use its camera. Type your identifier instead."
    ),
    SourceState.ENDED: N_("The camera stopped. Go back to scan again or type your identifier."),
    SourceState.STOPPED: N_("The camera stopped. Go back to scan again or type your identifier."),
}
"""What a person reads for each state of the camera."""

SCANNED_MESSAGES: dict[ScannedKind, str] = {
    ScannedKind.BADGE: N_(
        "This is a badge, not your connection QR code. Scan the QR code of your welcome letter."
    ),
    ScannedKind.INVITATION: N_(
        "This is a visitor invitation. Visitors: use “I am a visitor” on the welcome screen."
    ),
    ScannedKind.URL: N_(
        "This QR code holds a web address, not a connection code. "
        "Scan the QR code of your welcome letter."
    ),
    ScannedKind.TEXT: N_(
        "This QR code is not a connection code. Scan the QR code of your welcome letter."
    ),
    ScannedKind.EMPTY: N_(
        "This QR code is not a connection code. Scan the QR code of your welcome letter."
    ),
    ScannedKind.OVERSIZED: N_(
        "This QR code holds far too much to be a connection code. "
        "Scan the QR code of your welcome letter."
    ),
    ScannedKind.CONTROL_CHARACTERS: N_(
        "This QR code holds unexpected characters. Scan the QR code of your welcome letter."
    ),
}
"""What a person reads for a scanned code that is not a connect QR (its text is never shown)."""


class ScanScreen(CameraScanScreen):
    """The camera's preview, a frame around a code in view, and what was read."""

    # A person may need a while to find their letter and aim it.
    IDLE: ClassVar[IdleKind] = "typing"
    AUTO_FOCUS = "#back"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="scan.back"),
    ]
    STATUS_MESSAGES: ClassVar[dict[SourceState, str]] = STATUS_MESSAGES

    def __init__(self, sign_in: SignIn) -> None:
        super().__init__()
        self.sign_in = sign_in
        self.connecting = False
        """True while a scanned connect QR is with the service (further codes wait)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="scan-body", classes="panel"):
            yield Static(_("Scan your QR code"), classes="title", markup=False)
            yield CameraPreview(id="scan-preview")
            yield Static(self.status_text(), id="scan-status", markup=False)
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back")

    def on_scanned_text(self, text: str) -> None:
        if self.connecting:
            return
        kind = classify_scanned(text)
        if kind is ScannedKind.CONNECT:
            self.connecting = True
            self.show_message(_("Looking for your account…"))
            self.set_busy(True)
            self.connect_with(text)
        else:
            # The text itself is never shown: it is whatever someone printed.
            self.show_message(_(SCANNED_MESSAGES[kind]))

    # The service ---------------------------------------------------------------------------

    @work(exclusive=True, exit_on_error=False, group="api")
    async def connect_with(self, connect_token: str) -> None:
        """Ask the service whose QR this is, then go on as after typing the identifier."""
        connected = await self.kiosk.api().connect(connect_token)
        chosen = self.sign_in.solution_code
        if chosen and connected.solution_code.casefold() != chosen.casefold():
            # The person chose a site (typed its code) and shows a letter of another one that
            # this terminal also serves: never sign them in to a site they did not choose.
            self.connecting = False
            self.show_message(problem_text("connect-other-site"))
            return
        # The camera closes with this screen, which the next one replaces.
        self.stop_camera()
        sign_in = SignIn(connected.solution_code, connected.identifier)
        continue_sign_in(self.app, sign_in, connected.account_state, replace=True)

    def on_problem(self, error: BaseException | None) -> None:
        # The scan goes on: the next code in view is read.
        self.connecting = False
        super().on_problem(error)

    # Leaving -------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.dismiss()
