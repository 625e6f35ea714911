"""Frame sources behind one interface: a camera (index or ``/dev/videoN``), a video file, an image.

Opening never raises: a source that cannot start says why in a ``SourceStatus``.
"""

from __future__ import annotations

import errno
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kiosk.scanner.results import SourceState, SourceStatus

if TYPE_CHECKING:
    from kiosk.scanner.results import Frame

CAMERA_SIZE = (640, 480)
IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm", ".gif"}
)


class FrameSource(Protocol):
    """Where frames come from. ``read_latest`` returns the newest frame, or None at the end."""

    description: str
    live: bool
    """True for a camera or a paced video: frames go stale, so old ones are dropped."""

    def open(self) -> SourceStatus: ...

    def read_latest(self) -> Frame | None: ...

    def release(self) -> None: ...

    @property
    def released(self) -> bool: ...


def _quiet_opencv() -> Any:
    import cv2

    # OpenCV prints warnings (a missing camera, a bad file) on stderr, over a terminal UI.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    return cv2


class CameraSource:
    """A V4L2 camera: asks for MJPG at a modest size with a one-frame buffer."""

    live = True

    def __init__(self, device: int | str, size: tuple[int, int] = CAMERA_SIZE) -> None:
        self.device = device
        self.size = size
        self.description = f"camera {device}"
        self._cap: Any = None
        self._frame_interval = 1 / 30
        self._released = False

    def _device_path(self) -> str | None:
        if isinstance(self.device, int):
            return f"/dev/video{self.device}" if sys.platform.startswith("linux") else None
        return self.device

    def _check_device(self) -> SourceStatus | None:
        path = self._device_path()
        if path is None:
            return None
        try:
            fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM):
                return SourceStatus(SourceState.NO_PERMISSION, f"{path}: permission denied")
            if exc.errno == errno.EBUSY:
                return SourceStatus(SourceState.CAMERA_BUSY, f"{path}: in use")
            return SourceStatus(SourceState.NO_CAMERA, f"{path}: {exc.strerror or 'absent'}")
        os.close(fd)
        return None

    def open(self) -> SourceStatus:
        problem = self._check_device()
        if problem is not None:
            return problem
        cv2 = _quiet_opencv()
        api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
        cap = cv2.VideoCapture(self.device, api)
        if not cap.isOpened():
            cap.release()
            # The device node exists and we may open it, so another program most likely holds it.
            return SourceStatus(SourceState.CAMERA_BUSY, f"{self.description}: cannot be opened")
        cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        fps = cap.get(cv2.CAP_PROP_FPS)
        if fps and fps > 0:
            self._frame_interval = 1 / fps
        # A camera used by another program often opens fine and fails on the first frame.
        if not cap.grab():
            cap.release()
            return SourceStatus(SourceState.CAMERA_BUSY, f"{self.description}: gives no frames")
        self._cap = cap
        return SourceStatus(SourceState.RUNNING, self.description)

    def read_latest(self) -> Frame | None:
        if self._cap is None:
            return None
        # Drain: a grab that returns at once came from a buffer, so its frame is stale. Grab
        # until one had to wait for the sensor (bounded, in case the driver queues a lot).
        for _ in range(5):
            began = time.perf_counter()
            if not self._cap.grab():
                return None
            if time.perf_counter() - began > self._frame_interval / 3:
                break
        ok, frame = self._cap.retrieve()
        return frame if ok else None

    def release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        self._released = True

    @property
    def released(self) -> bool:
        return self._released


class VideoFileSource:
    """A video file: every frame in order, or paced as a camera would deliver it (``realtime``).

    Paced, it drops the frames whose time has passed while the scanner was busy, like a camera.
    """

    def __init__(self, path: str | Path, *, realtime: bool = False) -> None:
        self.path = Path(path)
        self.live = realtime
        self.description = str(path)
        self._cap: Any = None
        self._fps = 30.0
        self._started = 0.0
        self._position = 0
        self._released = False
        self.frames_read = 0
        """Frames decoded from the file so far (skipped ones excluded)."""

    def open(self) -> SourceStatus:
        if not self.path.is_file():
            return SourceStatus(SourceState.UNREADABLE, f"{self.path}: no such file")
        cv2 = _quiet_opencv()
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            return SourceStatus(SourceState.UNREADABLE, f"{self.path}: not a readable video")
        fps = cap.get(cv2.CAP_PROP_FPS)
        self._fps = fps if fps and fps > 0 else 30.0
        self._cap = cap
        self._started = time.monotonic()
        return SourceStatus(SourceState.RUNNING, self.description)

    def read_latest(self) -> Frame | None:
        if self._cap is None:
            return None
        if self.live:
            due = int((time.monotonic() - self._started) * self._fps)
            if due < self._position:
                time.sleep((self._position - due) / self._fps)
            # Skip (grab without decoding) the frames already stale.
            while self._position < due:
                if not self._cap.grab():
                    return None
                self._position += 1
        ok, frame = self._cap.read()
        if not ok:
            return None
        self._position += 1
        self.frames_read += 1
        return frame  # type: ignore[no-any-return]

    def release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        self._released = True

    @property
    def released(self) -> bool:
        return self._released


class ImageFileSource:
    """A still image, given once."""

    live = False

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.description = str(path)
        self._frame: Frame | None = None
        self._released = False

    def open(self) -> SourceStatus:
        if not self.path.is_file():
            return SourceStatus(SourceState.UNREADABLE, f"{self.path}: no such file")
        cv2 = _quiet_opencv()
        frame = cv2.imread(str(self.path), cv2.IMREAD_COLOR)
        if frame is None:
            return SourceStatus(SourceState.UNREADABLE, f"{self.path}: not a readable image")
        self._frame = frame
        return SourceStatus(SourceState.RUNNING, self.description)

    def read_latest(self) -> Frame | None:
        frame, self._frame = self._frame, None
        return frame

    def release(self) -> None:
        self._frame = None
        self._released = True

    @property
    def released(self) -> bool:
        return self._released


def is_image_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def open_source(spec: int | str | Path, *, realtime: bool = True) -> FrameSource:
    """A source for a camera index (``0`` or ``"0"``), a ``/dev/videoN`` path, or a file.

    Video files play at real-time pace unless ``realtime`` is False (tests read every frame).
    """
    if isinstance(spec, int):
        return CameraSource(spec)
    text = str(spec)
    if text.isdigit():
        return CameraSource(int(text))
    if text.startswith("/dev/"):
        return CameraSource(text)
    if is_image_path(text):
        return ImageFileSource(text)
    return VideoFileSource(text, realtime=realtime)
