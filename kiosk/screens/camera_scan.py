"""What every screen that reads QR codes with the camera shares: the scanner in a thread worker,
a live preview to aim by, the camera's state in words, and the camera released before the
screen is gone.

The camera runs in a thread worker (`kiosk.scanner.Scanner`); its callbacks post messages to
the screen, previews and states replacing older unhandled ones so that a slow screen is never
flooded. Subclasses compose a `CameraPreview` with id `scan-preview` and a `Static` with id
`scan-status`, say what each camera state means for them (`STATUS_MESSAGES`), and act on each
payload newly in view (`on_scanned_text`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Static
from textual.worker import Worker, get_current_worker

from kiosk.i18n import _
from kiosk.scanner.results import PreviewFrame, ScanResult, SourceState, SourceStatus
from kiosk.screens.base import KioskScreen
from kiosk.widgets.camera_preview import CameraPreview

if TYPE_CHECKING:
    from kiosk.scanner.sources import FrameSource
    from kiosk.settings import CameraSettings

logger = logging.getLogger(__name__)

# How long leaving the screen waits for the camera thread to release the camera. A frame is
# read and decoded in a few tens of milliseconds, so this is only reached if a driver hangs.
_RELEASE_WAIT_SECONDS = 3.0


class CameraScanScreen(KioskScreen):
    """Base of the screens that scan: runs the camera from mount to unmount and shows what it
    sees. Subclasses set `STATUS_MESSAGES` and implement `on_scanned_text`."""

    STATUS_MESSAGES: ClassVar[dict[SourceState, str]] = {}
    """What a person reads for each state of the camera (`N_()` strings)."""

    @dataclass
    class Preview(Message):
        """A new preview frame from the camera thread."""

        frame: PreviewFrame

        def can_replace(self, message: Message) -> bool:
            # Only the newest picture matters.
            return isinstance(message, CameraScanScreen.Preview)

    @dataclass
    class Status(Message):
        """The camera's state changed (from the camera thread)."""

        status: SourceStatus

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, CameraScanScreen.Status)

    @dataclass
    class Scanned(Message):
        """A payload newly in view (from the camera thread). Never replaced: each one counts."""

        result: ScanResult

    def __init__(self) -> None:
        super().__init__()
        self.camera_state: SourceState = SourceState.OPENING
        """Where the camera stands, as last reported."""
        self.source: FrameSource | None = None
        """The camera (or file) being read, once the camera thread opened it."""
        self.camera_worker: Worker[None] | None = None
        """The thread worker reading the camera."""
        self._stop = threading.Event()
        self._started = threading.Event()
        self._finished = threading.Event()

    def status_text(self) -> Content:
        """The camera's state in words, for `#scan-status`."""
        return Content(_(self.STATUS_MESSAGES.get(self.camera_state, "")))

    def on_mount(self) -> None:
        self.camera_worker = self._read_camera(self.kiosk.settings.camera)

    def on_scanned_text(self, text: str) -> None:
        """A payload newly in view (never shown as it is: it is whatever someone printed)."""
        raise NotImplementedError

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
            self.post_message(CameraScanScreen.Status(SourceStatus(SourceState.NO_CAMERA)))
        finally:
            self._finished.set()

    # Called in the camera thread: messages are the thread-safe way back to the screen.
    def _post_result(self, result: ScanResult) -> None:
        self.post_message(CameraScanScreen.Scanned(result))

    def _post_frame(self, frame: PreviewFrame) -> None:
        self.post_message(CameraScanScreen.Preview(frame))

    def _post_status(self, status: SourceStatus) -> None:
        self.post_message(CameraScanScreen.Status(status))

    @property
    def camera_stopping(self) -> bool:
        """True once the screen asked the camera to stop (later codes are ignored)."""
        return self._stop.is_set()

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
            status.update(self.status_text())
            status.set_class(state.is_failure, "-failure")
        if state.is_failure:
            logger.info("no camera to scan with: %s", message.status.detail)
            for back in self.query("#back").results(Button):
                back.focus()

    @on(Scanned)
    def _scanned(self, message: Scanned) -> None:
        if self._stop.is_set():
            return
        self.on_scanned_text(message.result.code.text)
