"""Visitor stills: one picture from the kiosk's camera, made into the small grey JPEG the service
keeps (`visitor_photo`), and read back for the screen and the badge. No Textual here; OpenCV
and numpy are imported when first used, in the caller's thread (never the UI loop's).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy.typing as npt

STILL_SIZE = (320, 240)
"""The largest still kept, width × height: enough to know a face, a few kilobytes."""
MAX_BYTES = 40 * 1024
"""The service keeps stills up to this size."""
WARMUP_SECONDS = 0.6
"""A camera's first frames are dark or blurred while it sets its exposure: the still is the
newest frame after this long."""


def take_still(
    source_spec: str, *, warmup_seconds: float = WARMUP_SECONDS, timeout_seconds: float = 3.0
) -> bytes | None:
    """A JPEG still from the camera (or the video or image file a test or demo gives as the
    camera), or None when there is no camera or it gives no frame."""
    from kiosk.scanner.results import SourceState
    from kiosk.scanner.sources import open_source

    source = open_source(source_spec, realtime=True)
    try:
        if source.open().state != SourceState.RUNNING:
            return None
        began = time.monotonic()
        frame = None
        while time.monotonic() - began < timeout_seconds:
            latest = source.read_latest()
            if latest is None:
                break  # an image given once, or a video at its end: keep the last frame
            frame = latest
            if time.monotonic() - began >= warmup_seconds:
                break
        return encode_still(frame) if frame is not None else None
    finally:
        source.release()


def encode_still(frame: npt.NDArray[Any]) -> bytes:
    """`frame` (BGR or grey) as a grey JPEG within `STILL_SIZE` and `MAX_BYTES`."""
    import cv2

    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    height, width = grey.shape[:2]
    scale = min(STILL_SIZE[0] / width, STILL_SIZE[1] / height, 1.0)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    for quality in (80, 65, 50, 35, 20):
        done, encoded = cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if done and encoded.size <= MAX_BYTES:
            return bytes(encoded.tobytes())
    raise ValueError("the still does not fit in 40 KiB")  # pragma: no cover - 320×240 grey


def decode_still(jpeg: bytes) -> npt.NDArray[Any] | None:
    """The grey pixels of a still (None when the bytes are not an image)."""
    import cv2
    import numpy as np

    pixels = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    return pixels if pixels is not None and pixels.size else None
