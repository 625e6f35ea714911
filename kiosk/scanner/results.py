"""Plain values the scanner hands out: decoded codes, source states, preview frames.

Nothing here imports OpenCV or numpy at run time, so the UI can import these types for free.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from typing import Any

    import numpy.typing as npt

    # OpenCV's stubs type every image as an array of any number type, so this says uint8 in words.
    Frame: TypeAlias = npt.NDArray[Any]
    """A captured image: H×W grayscale or H×W×3 BGR, 8 bits per channel (uint8)."""

Point: TypeAlias = tuple[float, float]
Corners: TypeAlias = tuple[Point, Point, Point, Point]
"""A code's four corners in pixel coordinates: top-left, top-right, bottom-right, bottom-left."""


@dataclass(frozen=True)
class Decoded:
    """One code read from one image."""

    text: str
    format: str
    """The symbology, spelled as zxing-cpp does: ``"QRCode"``."""
    corners: Corners | None = None
    decoder: str = ""
    """Which decoder read it (``"zxing"``, ``"zbar"``, ``"opencv"``)."""


class SourceState(enum.Enum):
    """Where a frame source stands; the scan screen shows a message for each."""

    OPENING = "opening"
    RUNNING = "running"
    NO_CAMERA = "no_camera"
    CAMERA_BUSY = "camera_busy"
    NO_PERMISSION = "no_permission"
    UNREADABLE = "unreadable"
    """A file that is missing or is no image or video this OpenCV can read."""
    ENDED = "ended"
    """A file source played to its end."""
    STOPPED = "stopped"
    """Stopped on request; the capture is released."""

    @property
    def is_failure(self) -> bool:
        return self in _FAILURES


_FAILURES = frozenset(
    {
        SourceState.NO_CAMERA,
        SourceState.CAMERA_BUSY,
        SourceState.NO_PERMISSION,
        SourceState.UNREADABLE,
    }
)


@dataclass(frozen=True)
class SourceStatus:
    """A state and a short English detail for logs and the ``scan`` command (not for the UI text)."""

    state: SourceState
    detail: str = ""


@dataclass(frozen=True)
class PreviewFrame:
    """A downscaled grayscale view of the camera, for the half-block preview."""

    pixels: Frame
    """H×W uint8 grayscale, at most the scanner's preview size."""
    corners: Corners | None
    """The last code seen, in ``pixels`` coordinates, or None when no code is in view."""
    source_size: tuple[int, int]
    """Width and height of the captured frame."""


@dataclass(frozen=True)
class ScanResult:
    """A payload newly in view (reported once while it stays in view)."""

    code: Decoded
    frame_index: int
    captured_at: float
    """``time.monotonic()`` when the frame was captured, to measure the delay to the screen."""


@dataclass(frozen=True)
class FileScan:
    """What ``scan_file`` found in one image or video file."""

    file: str
    codes: list[Decoded] = field(default_factory=list)
    error: str | None = None
