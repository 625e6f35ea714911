"""Decoders behind one interface, and the chain that runs them in a configured order."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from kiosk.scanner.results import Corners, Decoded

if TYPE_CHECKING:
    from kiosk.scanner.results import Frame

log = logging.getLogger(__name__)

QR_FORMAT = "QRCode"
DEFAULT_CHAIN: tuple[str, ...] = ("zxing", "zbar", "opencv")


class Decoder(Protocol):
    """Reads the QR codes in one frame. ``decode`` never raises on a frame it cannot read."""

    name: str

    def decode(self, frame: Frame) -> list[Decoded]: ...


class DecoderUnavailable(Exception):
    """Raised by a decoder's constructor when its library is not installed or does not load."""


def _corners(points: Iterable[Iterable[float]]) -> Corners | None:
    pts = [(float(p[0]), float(p[1])) for p in (tuple(q) for q in points)]
    if len(pts) != 4:
        return None
    return (pts[0], pts[1], pts[2], pts[3])


@dataclass(frozen=True)
class Located:
    """A code zxing-cpp found the finder patterns of but could not read."""

    corners: Corners


class ZxingDecoder:
    """zxing-cpp: the fastest and most tolerant of the three; runs on every live frame."""

    name = "zxing"

    def __init__(self) -> None:
        try:
            import zxingcpp
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise DecoderUnavailable(f"zxing-cpp: {exc}") from exc
        self._zx = zxingcpp
        self._formats = zxingcpp.barcode_formats_from_str("QRCode")
        self._local = zxingcpp.Binarizer.LocalAverage
        self._fixed = zxingcpp.Binarizer.FixedThreshold

    def decode(self, frame: Frame) -> list[Decoded]:
        return self.decode_or_locate(frame)[0]

    def decode_or_locate(self, frame: Frame) -> tuple[list[Decoded], list[Located]]:
        """Decode, and also return where codes were seen but failed to read (for a rescue)."""
        return self.read(frame)

    def read(
        self,
        frame: Frame,
        *,
        fixed_threshold: bool = False,
        try_invert: bool = True,
        try_downscale: bool = True,
    ) -> tuple[list[Decoded], list[Located]]:
        """One zxing-cpp pass with the options given: codes read, and codes located but not read.

        The defaults are the thorough pass. ``fixed_threshold`` binarises at mid-grey instead of
        against the local average: about 5x cheaper on a 720p frame, and it reads some low
        contrast and noisy codes the local average misses (it loses codes under glare).
        ``try_invert`` reads light-on-dark codes (a second pass), ``try_downscale`` also reads
        the frame at a third of its size when it is larger than 500 pixels.
        """
        # QR codes are read in any orientation without try_rotate (it is for 1D codes), so
        # leave it off.
        found = self._zx.read_barcodes(
            frame,
            formats=self._formats,
            try_rotate=False,
            try_invert=try_invert,
            try_downscale=try_downscale,
            binarizer=self._fixed if fixed_threshold else self._local,
            return_errors=True,
        )
        decoded: list[Decoded] = []
        located: list[Located] = []
        for barcode in found:
            pos = barcode.position
            corners = _corners(
                [
                    (pos.top_left.x, pos.top_left.y),
                    (pos.top_right.x, pos.top_right.y),
                    (pos.bottom_right.x, pos.bottom_right.y),
                    (pos.bottom_left.x, pos.bottom_left.y),
                ]
            )
            if barcode.valid:
                decoded.append(Decoded(barcode.text, QR_FORMAT, corners, self.name))
            elif corners is not None:
                located.append(Located(corners))
        return _unique(decoded), located


class ZbarDecoder:
    """zbar through pyzbar, available only where the libzbar shared library is installed."""

    name = "zbar"

    def __init__(self) -> None:
        import ctypes.util

        # pyzbar raises ImportError when libzbar is missing; look first to say why.
        if ctypes.util.find_library("zbar") is None:
            raise DecoderUnavailable("zbar: libzbar is not installed (Debian: libzbar0)")
        try:
            from pyzbar import pyzbar
        except (ImportError, OSError) as exc:
            raise DecoderUnavailable(f"zbar: {exc}") from exc
        self._pyzbar: Any = pyzbar
        self._symbols = [pyzbar.ZBarSymbol.QRCODE]

    def decode(self, frame: Frame) -> list[Decoded]:
        import cv2

        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        out: list[Decoded] = []
        for item in self._pyzbar.decode(gray, symbols=self._symbols):
            try:
                text = item.data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            out.append(Decoded(text, QR_FORMAT, _corners(item.polygon), self.name))
        return _unique(out)


class OpenCvDecoder:
    """OpenCV's own QR detector: slow, but it reads some low-contrast codes the others miss."""

    name = "opencv"

    def __init__(self) -> None:
        import cv2

        self._cv2 = cv2
        self._detector = cv2.QRCodeDetector()

    def decode(self, frame: Frame) -> list[Decoded]:
        cv2 = self._cv2
        try:
            text, points, _ = self._detector.detectAndDecode(frame)
        except cv2.error:
            return []
        if not text:
            return []
        corners = _corners(points.reshape(-1, 2)) if points is not None else None
        return [Decoded(text, QR_FORMAT, corners, self.name)]


_FACTORIES: dict[str, type[ZxingDecoder | ZbarDecoder | OpenCvDecoder]] = {
    "zxing": ZxingDecoder,
    "zbar": ZbarDecoder,
    "opencv": OpenCvDecoder,
}
DECODER_NAMES: tuple[str, ...] = tuple(_FACTORIES)


@dataclass
class DecoderChain:
    """The decoders to run, in order; ``skipped`` says which names were not available and why."""

    decoders: list[Decoder]
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.decoders]

    def get(self, name: str) -> Decoder | None:
        return next((d for d in self.decoders if d.name == name), None)


def build_chain(names: Sequence[str] = DEFAULT_CHAIN) -> DecoderChain:
    """Make the decoders named, in that order, skipping (not failing on) those that cannot load.

    A name this build does not know is skipped too: a kiosk whose config names a decoder it lacks
    still scans with the others.
    """
    decoders: list[Decoder] = []
    skipped: dict[str, str] = {}
    for name in names:
        factory = _FACTORIES.get(name)
        if factory is None:
            log.warning("decoder %r unknown; known: %s", name, ", ".join(DECODER_NAMES))
            skipped[name] = f"unknown decoder; known: {', '.join(DECODER_NAMES)}"
            continue
        try:
            decoders.append(factory())
        except DecoderUnavailable as exc:
            log.warning("decoder %s unavailable: %s", name, exc)
            skipped[name] = str(exc)
    return DecoderChain(decoders, skipped)


def _unique(codes: list[Decoded]) -> list[Decoded]:
    # try_invert and try_downscale can report the same symbol twice.
    seen: set[str] = set()
    out = []
    for code in codes:
        if code.text not in seen:
            seen.add(code.text)
            out.append(code)
    return out
