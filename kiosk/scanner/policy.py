"""Which decoders run on a frame: the live policy (cheap, every frame) and the file policy (thorough).

Measured on this project's generated frames (see ``bench/scanner_bench.py``): zxing-cpp's thorough
pass (local-average binariser, inverted codes, a downscaled copy) reads a 640×480 frame in about
1.4 ms and a 720p frame in about 5 ms; zbar and OpenCV's detector take 5–25 ms. The live loop
therefore runs cheap zxing-cpp passes first and the thorough one only where it can help: a 720p
frame is first read at half size (0.3 ms, most codes a person holds up are large), then at full size
with a fixed threshold (0.6 ms), and the thorough pass runs only when a code was located but not
read, on frames too small to halve, and on every few frames (for codes too small for the cheap
passes). The slow decoders get a small budget: on a crop around a code zxing-cpp located but could
not read (a crop costs a fraction of the frame), and on every Nth frame, one rescue step on the frame
downscaled. The first rescue on a crop is the crop sharpened (`_crisp`): it reads most codes small in
the frame (modules of 2 pixels at 720p: 11 of 22 bench frames instead of 4) and some blurred ones.
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


def _crisp(gray: Frame) -> Frame:
    """A strong unsharp mask: gives back the edges of a code small in the frame (modules of about
    2 pixels, softened by the lens) or out of focus, for the binariser to read."""
    import cv2

    soft = cv2.GaussianBlur(gray, (0, 0), 1.5)
    return cv2.addWeighted(gray, 3.0, soft, -2.0, 0)


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


def _scaled(corners: Corners, scale: float) -> Corners:
    a, b, c, d = ((x / scale, y / scale) for x, y in corners)
    return (a, b, c, d)


def _crop_around(gray: Frame, spot: Located) -> tuple[int, int, Frame] | None:
    """The located code with a margin, and the crop's top-left corner; None when too small."""
    xs = [p[0] for p in spot.corners]
    ys = [p[1] for p in spot.corners]
    margin = 0.25 * max(max(xs) - min(xs), max(ys) - min(ys), 8.0)
    height, width = gray.shape[:2]
    x0, x1 = max(int(min(xs) - margin), 0), min(int(max(xs) + margin), width)
    y0, y1 = max(int(min(ys) - margin), 0), min(int(max(ys) + margin), height)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    return x0, y0, gray[y0:y1, x0:x1]


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
    """The live loop's decoding: zxing-cpp always, slower rescues within ``budget_s`` per frame.

    A rescue step runs only when the time the frame has taken so far plus what the step is
    expected to cost fits the budget; what each step costs per pixel is learnt as it runs.
    """

    chain: DecoderChain
    budget_s: float = 0.008
    """Time one frame may take, rescues included (the issue's p95 target for a 720p frame)."""
    sweep_every: int = 24
    """On every Nth frame where nothing was read, one rescue step runs on the downscaled frame."""
    sweep_width: int = 640
    halve_above: int = 960
    """Frames wider than this are first read at half size."""
    thorough_every: int = 3
    """On frames read at half size first, zxing-cpp's thorough full-size pass runs when a code was
    located but not read (it costs 5x the cheap passes together); otherwise, on every Nth frame, a
    lighter full-size local-average pass looks for a code small in a large frame."""

    def __post_init__(self) -> None:
        zx = self.chain.get("zxing")
        self._zxing = zx if isinstance(zx, ZxingDecoder) else None
        self._frames = 0
        self._sweep_steps = self._make_sweep_steps()
        self._upscaled: Step | None = None
        self._crisped: Step | None = None
        if self._zxing is not None:
            self._upscaled = _with_preprocessing(self._zxing.decode, _upscale, 2.0)
            self._crisped = _with_preprocessing(self._zxing.decode, _crisp, 1.0)
        self._next_sweep = 0
        self._cost_per_pixel: dict[Step, float] = {}

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
        if self._zxing is None:
            for decoder in self.chain.decoders:
                found = decoder.decode(gray)
                if found:
                    return found, None
            return [], None
        found, located = self._zxing_passes(self._zxing, gray)
        if found:
            return found, None
        found = self._rescue(gray, located, started)
        if found:
            return found, None
        if self._frames % self.sweep_every == 0 and self._sweep_steps:
            found = self._sweep(gray, started)
            if found:
                return found, None
        return [], located[0].corners if located else None

    def _zxing_passes(
        self, zxing: ZxingDecoder, gray: Frame
    ) -> tuple[list[Decoded], list[Located]]:
        """zxing-cpp's passes, cheapest first; ``located`` comes from the most precise pass."""
        import cv2

        located: list[Located] = []
        height, width = gray.shape[:2]
        halved = width > self.halve_above
        if halved:
            # An exact halving with INTER_AREA takes OpenCV's fast path (under 0.1 ms at 720p,
            # where INTER_AREA to another width costs 1.5 ms) and averages away sensor noise.
            small = cv2.resize(gray, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
            scale = small.shape[1] / width
            found, spots = zxing.read(small, try_downscale=False)
            if found:
                return _shifted(found, 0.0, 0.0, scale), []
            located = [Located(_scaled(spot.corners, scale)) for spot in spots]
        found, spots = zxing.read(gray, fixed_threshold=True, try_downscale=False)
        if found:
            return found, []
        located = spots or located
        if not halved or located:
            found, spots = zxing.read(gray)
        elif self._frames % self.thorough_every == 0:
            # For a code too small for the half-size pass: the local-average binariser at full
            # size, without the inverted and downscaled tries (half the thorough pass's cost).
            found, spots = zxing.read(gray, try_invert=False, try_downscale=False)
        else:
            return [], located
        if found:
            return found, []
        return [], spots or located

    def _rescue(self, gray: Frame, located: list[Located], started: float) -> list[Decoded]:
        """The rescue steps on crops around the codes located, each step on every crop before the
        next (slower) step: the budget goes to the cheap attempts first."""
        crops = [c for c in (_crop_around(gray, spot) for spot in located) if c is not None]
        steps: list[Step] = [*self._sweep_steps]
        if self._upscaled is not None:
            steps.insert(0, self._upscaled)
        if self._crisped is not None:
            steps.insert(0, self._crisped)
        for step in steps:
            for x0, y0, crop in crops:
                if step is self._upscaled and min(crop.shape[:2]) >= 200:
                    continue  # upscaling helps a small code only: more pixels per module
                if time.perf_counter() - started > self.budget_s:
                    return []
                found = self._within_budget(step, crop, started)
                if found:
                    return _shifted(found, float(x0), float(y0), 1.0)
        return []

    def _within_budget(self, step: Step, image: Frame, started: float) -> list[Decoded]:
        """Run ``step`` if it is expected to end within the frame's budget; learn what it costs."""
        pixels = float(image.shape[0] * image.shape[1])
        per_pixel = self._cost_per_pixel.get(step, 0.0)
        if time.perf_counter() - started + per_pixel * pixels > self.budget_s:
            # Forget a little each time it is passed over, so an estimate made while the
            # machine was busy does not bar the step for good.
            self._cost_per_pixel[step] = per_pixel * 0.9
            return []
        # CPU time of this thread: what the step costs, not how long other processes held the core.
        cpu_began = time.thread_time()
        found = step(image)
        spent = (time.thread_time() - cpu_began) / max(pixels, 1.0)
        self._cost_per_pixel[step] = spent if per_pixel == 0.0 else 0.5 * (per_pixel + spent)
        return found

    def _sweep(self, gray: Frame, started: float) -> list[Decoded]:
        import cv2

        step = self._sweep_steps[self._next_sweep % len(self._sweep_steps)]
        self._next_sweep += 1
        scale = min(1.0, self.sweep_width / gray.shape[1])
        small = gray
        if scale < 1.0:
            small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return _shifted(self._within_budget(step, small, started), 0.0, 0.0, scale)
