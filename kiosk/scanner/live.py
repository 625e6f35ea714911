"""The live scan loop, meant to run in a thread (a Textual thread worker calls ``Scanner.run``)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from kiosk.scanner.decoders import DEFAULT_CHAIN, DecoderChain, build_chain
from kiosk.scanner.policy import LivePolicy, to_gray
from kiosk.scanner.results import (
    Corners,
    PreviewFrame,
    ScanResult,
    SourceState,
    SourceStatus,
)
from kiosk.scanner.sources import FrameSource

if TYPE_CHECKING:
    from kiosk.scanner.results import Frame

log = logging.getLogger(__name__)


def _ignore(_: object) -> None:
    return None


class Scanner:
    """Reads frames from a source, decodes them and reports through callbacks, until stopped.

    ``run()`` blocks in the calling thread; the callbacks are called from that thread (a Textual
    screen posts them as messages). A payload is reported once while it stays in view: it must be
    absent for ``forget_after_s`` before it is reported again. ``should_stop`` (or ``stop()``) is
    checked between frames; the source is released when ``run`` returns, whatever happened.
    """

    def __init__(
        self,
        source: FrameSource,
        chain: DecoderChain | Sequence[str] = DEFAULT_CHAIN,
        *,
        on_result: Callable[[ScanResult], None] = _ignore,
        on_frame: Callable[[PreviewFrame], None] = _ignore,
        on_status: Callable[[SourceStatus], None] = _ignore,
        should_stop: Callable[[], bool] = lambda: False,
        preview_size: tuple[int, int] = (160, 120),
        preview_fps: float = 8.0,
        forget_after_s: float = 1.0,
        budget_s: float = 0.008,
    ) -> None:
        self.source = source
        self.chain = chain if isinstance(chain, DecoderChain) else build_chain(chain)
        self.policy = LivePolicy(self.chain, budget_s=budget_s)
        self._on_result = on_result
        self._on_frame = on_frame
        self._on_status = on_status
        self._should_stop = should_stop
        self._stop = threading.Event()
        self.preview_size = preview_size
        self.preview_interval = 1.0 / preview_fps if preview_fps > 0 else float("inf")
        self.forget_after_s = forget_after_s
        self.frames_decoded = 0
        self.decode_seconds: list[float] = []
        """Time spent decoding each frame, for the benchmark."""

    def stop(self) -> None:
        """Ask the loop to stop; safe from any thread."""
        self._stop.set()

    def _stopping(self) -> bool:
        return self._stop.is_set() or self._should_stop()

    def run(self) -> SourceStatus:
        """Scan until stopped or the source ends; return the final status (also sent to on_status)."""
        self._on_status(SourceStatus(SourceState.OPENING, self.source.description))
        try:
            status = self.source.open()
            if status.state is not SourceState.RUNNING:
                final = status
            else:
                self._on_status(status)
                final = self._loop()
        finally:
            self.source.release()
        self._on_status(final)
        return final

    def _loop(self) -> SourceStatus:
        last_seen: dict[str, float] = {}
        last_preview = float("-inf")
        corners: Corners | None = None
        corners_at = float("-inf")
        index = -1
        while not self._stopping():
            frame = self.source.read_latest()
            if frame is None:
                return SourceStatus(SourceState.ENDED, self.source.description)
            captured = time.monotonic()
            index += 1
            began = time.perf_counter()
            # Grey once: the policy and the preview both work on it (a no-op for a grey source).
            gray = to_gray(frame)
            found, located = self.policy.decode(gray)
            self.decode_seconds.append(time.perf_counter() - began)
            self.frames_decoded += 1
            now = time.monotonic()
            for code in found:
                # Only a payload absent for a while counts as new: a code held still is
                # read on most frames, and may be missed on a few (blur, a hand passing).
                previous = last_seen.get(code.text)
                last_seen[code.text] = now
                if previous is None or now - previous > self.forget_after_s:
                    self._on_result(ScanResult(code, index, captured))
            if found and found[0].corners is not None:
                corners, corners_at = found[0].corners, now
            elif located is not None:
                corners, corners_at = located, now
            elif now - corners_at > 0.5:
                corners = None
            if now - last_preview >= self.preview_interval:
                last_preview = now
                self._on_frame(self._preview(gray, corners))
        return SourceStatus(SourceState.STOPPED, self.source.description)

    def _preview(self, gray: Frame, corners: Corners | None) -> PreviewFrame:
        import cv2

        height, width = gray.shape[:2]
        scale = min(self.preview_size[0] / width, self.preview_size[1] / height, 1.0)
        size = (max(int(width * scale), 1), max(int(height * scale), 1))
        small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        scaled: Corners | None = None
        if corners is not None:
            a, b, c, d = ((x * scale, y * scale) for x, y in corners)
            scaled = (a, b, c, d)
        return PreviewFrame(small, scaled, (width, height))
