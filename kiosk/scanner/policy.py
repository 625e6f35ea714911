"""Which decoders run on a frame: the live policy (cheap, every frame) and the file policy (thorough).

Measured on this project's generated frames (see ``bench/scanner_bench.py``): zxing-cpp reads a
640×480 frame in about 1 ms and a 720p frame in 1–4 ms; zbar and OpenCV's detector take 5–25 ms.
So the live loop runs zxing-cpp on every frame and spends a small budget on the slow decoders only
where they can help: on a crop around a code zxing-cpp located but could not read (a crop costs a
fraction of the frame), and on every Nth frame, one rescue step on the frame downscaled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.scanner.decoders import DecoderChain, Located, ZxingDecoder
from kiosk.scanner.results import Corners, Decoded

if TYPE_CHECKING:
    from kiosk.scanner.results import Frame

Step = Callable[["Frame"], list[Decoded]]


def to_gray(frame: Frame) -> Frame:
    import cv2

    if frame.ndim == 2:
        return frame
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def _clahe(gray: Frame) -> Frame:
    import cv2

    return cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(gray)


def _sharpen(gray: Frame) -> Frame:
    import cv2

    soft = cv2.GaussianBlur(gray, (0, 0), 2.0)
    return cv2.addWeighted(gray, 2.0, soft, -1.0, 0)


def _threshold(gray: Frame) -> Frame:
    import cv2

    # A block about the size of a few modules: binarising locally undoes glare and heavy blur.
    return cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 31, 5
    )


def _upscale(gray: Frame) -> Frame:
    import cv2

    return cv2.resize(gray, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)


def _median(gray: Frame) -> Frame:
    import cv2

    return cv2.medianBlur(gray, 5)


PREPROCESSORS: dict[str, Callable[[Frame], Frame]] = {
    "clahe": _clahe,
    "sharpen": _sharpen,
    "threshold": _threshold,
    "median": _median,
    "upscale": _upscale,
}


def _shifted(codes: list[Decoded], dx: float, dy: float, scale: float) -> list[Decoded]:
    out = []
    for code in codes:
        corners: Corners | None = None
        if code.corners is not None:
            a, b, c, d = ((x / scale + dx, y / scale + dy) for x, y in code.corners)
            corners = (a, b, c, d)
        out.append(Decoded(code.text, code.format, corners, code.decoder))
    return out


def _with_preprocessing(decode: Step, prep: Callable[[Frame], Frame], scale: float) -> Step:
    def step(gray: Frame) -> list[Decoded]:
        return _shifted(decode(prep(gray)), 0.0, 0.0, scale)

    return step


def file_steps(chain: DecoderChain) -> Iterator[Step]:
    """Every attempt, cheapest and most likely first: each decoder, then each on cleaned-up images."""
    for decoder in chain.decoders:
        yield decoder.decode
    for name, prep in PREPROCESSORS.items():
        scale = 2.0 if name == "upscale" else 1.0
        for decoder in chain.decoders:
            yield _with_preprocessing(decoder.decode, prep, scale)


def decode_thoroughly(frame: Frame, chain: DecoderChain) -> list[Decoded]:
    """The file policy: try the whole chain, then with preprocessing, until something is read."""
    gray = to_gray(frame)
    for step in file_steps(chain):
        found = step(gray)
        if found:
            return found
    return []


@dataclass
class LivePolicy:
    """The live loop's decoding: zxing-cpp always, slower rescues within ``budget_s`` per frame."""

    chain: DecoderChain
    budget_s: float = 0.008
    """Time the rescues may add to one frame (the issue's p95 target for a 720p frame is 8 ms)."""
    sweep_every: int = 24
    """On every Nth frame where nothing was read, one rescue step runs on the downscaled frame
    (a slow step costs 5-25 ms, so on fewer than 5% of frames: the p95 stays within budget)."""
    sweep_width: int = 640

    def __post_init__(self) -> None:
        zx = self.chain.get("zxing")
        self._zxing = zx if isinstance(zx, ZxingDecoder) else None
        self._frames = 0
        self._sweep_steps = self._make_sweep_steps()
        self._next_sweep = 0

    def _make_sweep_steps(self) -> list[Step]:
        steps: list[Step] = []
        if self._zxing is not None:
            zx = self._zxing.decode
            steps += [
                _with_preprocessing(zx, _clahe, 1.0),
                _with_preprocessing(zx, _threshold, 1.0),
            ]
        steps += [d.decode for d in self.chain.decoders if d is not self._zxing]
        return steps

    def decode(self, frame: Frame) -> tuple[list[Decoded], Corners | None]:
        """Codes read in this frame, and where a code was seen but not read (for the preview)."""
        started = time.perf_counter()
        self._frames += 1
        gray = to_gray(frame)
        located: list[Located] = []
        if self._zxing is not None:
            found, located = self._zxing.decode_or_locate(gray)
            if found:
                return found, None
        else:
            for decoder in self.chain.decoders:
                found = decoder.decode(gray)
                if found:
                    return found, None
            return [], None
        for spot in located:
            found = self._rescue_crop(gray, spot, started)
            if found:
                return found, None
        if self._frames % self.sweep_every == 0 and self._sweep_steps:
            found = self._sweep(gray)
            if found:
                return found, None
        return [], located[0].corners if located else None

    def _rescue_crop(self, gray: Frame, spot: Located, started: float) -> list[Decoded]:
        xs = [p[0] for p in spot.corners]
        ys = [p[1] for p in spot.corners]
        margin = 0.25 * max(max(xs) - min(xs), max(ys) - min(ys), 8.0)
        height, width = gray.shape[:2]
        x0, x1 = max(int(min(xs) - margin), 0), min(int(max(xs) + margin), width)
        y0, y1 = max(int(min(ys) - margin), 0), min(int(max(ys) + margin), height)
        if x1 - x0 < 8 or y1 - y0 < 8:
            return []
        crop = gray[y0:y1, x0:x1]
        steps: list[Step] = [*self._sweep_steps]
        if self._zxing is not None and min(crop.shape[:2]) < 200:
            # A small code: more pixels per module is what zxing-cpp needs.
            steps.insert(0, _with_preprocessing(self._zxing.decode, _upscale, 2.0))
        for step in steps:
            if time.perf_counter() - started > self.budget_s:
                break
            found = step(crop)
            if found:
                return _shifted(found, float(x0), float(y0), 1.0)
        return []

    def _sweep(self, gray: Frame) -> list[Decoded]:
        import cv2

        step = self._sweep_steps[self._next_sweep % len(self._sweep_steps)]
        self._next_sweep += 1
        scale = min(1.0, self.sweep_width / gray.shape[1])
        small = gray
        if scale < 1.0:
            small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return _shifted(step(small), 0.0, 0.0, scale)
