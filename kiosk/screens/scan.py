"""Signing in by scanning the connect QR of a welcome letter, with a live preview to aim by.

The camera runs in a thread worker (`kiosk.scanner.Scanner`); its callbacks post messages to
this screen, previews and states replacing older unhandled ones so that a slow screen is never
flooded. A connect QR goes to the service, and the sign-in goes on exactly as after typing the
identifier; anything else gets a calm, specific message and the scan goes on. The camera is
released before the screen is gone.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Static
from textual.worker import Worker, get_current_worker

from kiosk.i18n import N_, _
from kiosk.qr_payload import ScannedKind, classify_scanned
from kiosk.scanner.results import PreviewFrame, ScanResult, SourceState, SourceStatus
from kiosk.screens.base import IdleKind, KioskScreen, SignIn
from kiosk.screens.identifier import continue_sign_in
from kiosk.widgets.camera_preview import CameraPreview

if TYPE_CHECKING:
    from kiosk.scanner.sources import FrameSource
    from kiosk.settings import CameraSettings

logger = logging.getLogger(__name__)

# How long leaving the screen waits for the camera thread to release the camera. A frame is
# read and decoded in a few tens of milliseconds, so this is only reached if a driver hangs.
_RELEASE_WAIT_SECONDS = 3.0

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


class ScanScreen(KioskScreen):
    """The camera's preview, a frame around a code in view, and what was read."""

    # A person may need a while to find their letter and aim it.
    IDLE: ClassVar[IdleKind] = "typing"
    AUTO_FOCUS = "#back"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="scan.back"),
    ]

    @dataclass
    class Preview(Message):
        """A new preview frame from the camera thread."""

        frame: PreviewFrame

        def can_replace(self, message: Message) -> bool:
            # Only the newest picture matters.
            return isinstance(message, ScanScreen.Preview)

    @dataclass
    class Status(Message):
        """The camera's state changed (from the camera thread)."""

        status: SourceStatus

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ScanScreen.Status)

    @dataclass
    class Scanned(Message):
        """A payload newly in view (from the camera thread). Never replaced: each one counts."""

        result: ScanResult

    def __init__(self, sign_in: SignIn) -> None:
        super().__init__()
        self.sign_in = sign_in
        self.camera_state: SourceState = SourceState.OPENING
        """Where the camera stands, as last reported."""
        self.source: FrameSource | None = None
        """The camera (or file) being read, once the camera thread opened it."""
        self.camera_worker: Worker[None] | None = None
        """The thread worker reading the camera."""
        self.connecting = False
        """True while a scanned connect QR is with the service (further codes wait)."""
        self._stop = threading.Event()
        self._started = threading.Event()
        self._finished = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical(id="scan-body", classes="panel"):
            yield Static(_("Scan your QR code"), classes="title", markup=False)
            yield CameraPreview(id="scan-preview")
            yield Static(self._status_text(), id="scan-status", markup=False)
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back")

    def _status_text(self) -> Content:
        return Content(_(STATUS_MESSAGES[self.camera_state]))

    def on_mount(self) -> None:
        self.camera_worker = self._read_camera(self.kiosk.settings.camera)

    # The camera thread ---------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="camera")
    def _read_camera(self, camera: CameraSettings) -> None:
        """Run the scanner on `camera` until the screen closes."""
        worker = get_current_worker()
        self._started.set()
        try:
            if self._stop.is_set():
                return
            from kiosk.scanner import Scanner, build_chain, open_source

            self.source = open_source(camera.source)
            scanner = Scanner(
                self.source,
                build_chain(camera.decoders),
                on_result=self._post_result,
                on_frame=self._post_frame,
                on_status=self._post_status,
                should_stop=lambda: self._stop.is_set() or worker.is_cancelled,
                preview_fps=camera.preview_fps,
            )
            scanner.run()
        except Exception as error:  # noqa: BLE001 - a camera problem is a state, never a crash
            logger.error("the camera failed: %s", type(error).__name__)
            self.post_message(ScanScreen.Status(SourceStatus(SourceState.NO_CAMERA)))
        finally:
            self._finished.set()

    # Called in the camera thread: messages are the thread-safe way back to the screen.
    def _post_result(self, result: ScanResult) -> None:
        self.post_message(ScanScreen.Scanned(result))

    def _post_frame(self, frame: PreviewFrame) -> None:
        self.post_message(ScanScreen.Preview(frame))

    def _post_status(self, status: SourceStatus) -> None:
        self.post_message(ScanScreen.Status(status))

    def stop_camera(self) -> None:
        """Ask the camera thread to stop; it releases the camera between two frames."""
        self._stop.set()

    async def on_unmount(self) -> None:
        self.stop_camera()
        if self._started.is_set():
            # Joined, so that the camera is free the moment another screen (or program) wants it.
            released = await asyncio.to_thread(self._finished.wait, _RELEASE_WAIT_SECONDS)
            if not released:
                logger.warning("the camera thread did not stop in time")

    # Messages from the camera thread -------------------------------------------------------

    @on(Preview)
    def _preview(self, message: Preview) -> None:
        for preview in self.query("#scan-preview").results(CameraPreview):
            preview.show(message.frame)

    @on(Status)
    def _status(self, message: Status) -> None:
        state = message.status.state
        if state is SourceState.STOPPED and self._stop.is_set():
            return  # stopped because we asked: nothing to tell anyone
        self.camera_state = state
        for status in self.query("#scan-status").results(Static):
            status.update(self._status_text())
            status.set_class(state.is_failure, "-failure")
        if state.is_failure:
            logger.info("no camera to scan with: %s", message.status.detail)
            self.query_one("#back", Button).focus()

    @on(Scanned)
    def _scanned(self, message: Scanned) -> None:
        if self.connecting or self._stop.is_set():
            return
        text = message.result.code.text
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
