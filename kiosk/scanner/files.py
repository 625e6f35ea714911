"""Scanning files: every code in an image, every distinct payload across a video's frames."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.scanner.decoders import DEFAULT_CHAIN, DecoderChain, ZxingDecoder, build_chain
from kiosk.scanner.policy import decode_thoroughly, to_gray
from kiosk.scanner.results import Decoded, FileScan, SourceState
from kiosk.scanner.sources import ImageFileSource, VideoFileSource, is_image_path

if TYPE_CHECKING:
    from kiosk.scanner.results import Frame

VIDEO_THOROUGH_EVERY = 10
"""In a video, the whole chain runs on every Nth frame (and where zxing-cpp saw an unread code):
the chain costs 20-80 ms a frame, and a code in a video stays in view for many frames."""


def scan_file(path: str | Path, chain: DecoderChain | Sequence[str] = DEFAULT_CHAIN) -> FileScan:
    """Decode an image or a video file with the file policy; never raises on a bad file."""
    if not isinstance(chain, DecoderChain):
        chain = build_chain(chain)
    name = str(path)
    source = ImageFileSource(path) if is_image_path(path) else VideoFileSource(path, realtime=False)
    try:
        status = source.open()
        if status.state is not SourceState.RUNNING:
            return FileScan(name, error=status.detail)
        codes: list[Decoded] = []
        seen: set[str] = set()
        frames = 0
        while (frame := source.read_latest()) is not None:
            frames += 1
            if isinstance(source, ImageFileSource):
                found = decode_thoroughly(frame, chain)
            else:
                found = _decode_video_frame(frame, chain, frames)
            for code in found:
                if code.text not in seen:
                    seen.add(code.text)
                    codes.append(code)
        if frames == 0:
            return FileScan(name, error=f"{path}: no frame could be decoded")
        return FileScan(name, codes)
    finally:
        source.release()


def _decode_video_frame(frame: Frame, chain: DecoderChain, number: int) -> list[Decoded]:
    zxing = chain.get("zxing")
    if isinstance(zxing, ZxingDecoder):
        found, located = zxing.decode_or_locate(to_gray(frame))
        if found:
            return found
        if not located and number % VIDEO_THOROUGH_EVERY:
            return []
    return decode_thoroughly(frame, chain)
