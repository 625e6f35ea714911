"""The QR scanner: frame sources, decoders, the live loop and file scanning. Imports no Textual.

Importing this package is cheap: OpenCV, numpy and the decoders load when first used.
"""

from kiosk.scanner.decoders import (
    DECODER_NAMES,
    DEFAULT_CHAIN,
    Decoder,
    DecoderChain,
    DecoderUnavailable,
    build_chain,
)
from kiosk.scanner.files import scan_file
from kiosk.scanner.live import Scanner
from kiosk.scanner.results import (
    Corners,
    Decoded,
    FileScan,
    PreviewFrame,
    ScanResult,
    SourceState,
    SourceStatus,
)
from kiosk.scanner.sources import (
    CameraSource,
    FrameSource,
    ImageFileSource,
    VideoFileSource,
    open_source,
)

__all__ = [
    "DECODER_NAMES",
    "DEFAULT_CHAIN",
    "CameraSource",
    "Corners",
    "Decoded",
    "Decoder",
    "DecoderChain",
    "DecoderUnavailable",
    "FileScan",
    "FrameSource",
    "ImageFileSource",
    "PreviewFrame",
    "ScanResult",
    "Scanner",
    "SourceState",
    "SourceStatus",
    "VideoFileSource",
    "build_chain",
    "open_source",
    "scan_file",
]
