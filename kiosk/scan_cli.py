"""``kiosk scan``: read QR codes from image and video files, or watch a camera.

``kiosk scan --json FILE...`` prints one JSON object per file and line; ``kiosk scan --camera 0``
prints each payload a camera sees until ctrl+c, so whoever installs a kiosk can test its camera.
Payloads are printed as data: control characters are escaped, never sent to the terminal.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from kiosk.scanner import DecoderChain

EXIT_OK = 0
EXIT_FAILED = 1
"""A file could not be read, or the camera could not be opened."""
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk scan", description="Read QR codes from image or video files, or a camera."
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="images or videos to decode")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--camera",
        metavar="SOURCE",
        help="a camera index (0), a device (/dev/video0), or a video file played in real time",
    )
    parser.add_argument(
        "--decoders",
        default="zxing,zbar,opencv",
        help="decoders to use, in order (default: zxing,zbar,opencv)",
    )
    return parser


def _printable(text: str) -> str:
    # A QR can carry escape sequences; show them as \\x1b rather than let them drive the terminal.
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


def run(argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run ``kiosk scan`` with the arguments after ``scan``; return the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:  # argparse has printed the usage
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    names = [n.strip() for n in args.decoders.split(",") if n.strip()]
    if bool(args.files) == bool(args.camera):
        parser.print_usage(err)
        print("kiosk scan: give either FILE... or --camera SOURCE", file=err)
        return EXIT_USAGE

    from kiosk.scanner import build_chain

    chain = build_chain(names)
    for name, why in chain.skipped.items():
        print(f"kiosk scan: decoder {name} skipped: {why}", file=err)
    if not chain.decoders:
        print("kiosk scan: no decoder available", file=err)
        return EXIT_FAILED
    if args.camera:
        return _watch(args.camera, chain, as_json=args.json, out=out, err=err)
    return _scan_files(args.files, chain, as_json=args.json, out=out)


def _scan_files(files: list[str], chain: DecoderChain, *, as_json: bool, out: TextIO) -> int:
    from kiosk.scanner import scan_file

    status = EXIT_OK
    for file in files:
        result = scan_file(file, chain)
        if as_json:
            doc: dict[str, object] = {
                "file": result.file,
                "codes": [{"text": c.text, "format": c.format} for c in result.codes],
            }
            if result.error is not None:
                doc["error"] = result.error
            print(json.dumps(doc, ensure_ascii=False), file=out, flush=True)
        elif result.error is not None:
            print(f"{_printable(file)}: error: {_printable(result.error)}", file=out)
        elif not result.codes:
            print(f"{_printable(file)}: no code found", file=out)
        else:
            texts = ", ".join(f"{c.format} {_printable(c.text)!r}" for c in result.codes)
            print(f"{_printable(file)}: {texts}", file=out)
        if result.error is not None:
            status = EXIT_FAILED
    return status


def _watch(spec: str, chain: DecoderChain, *, as_json: bool, out: TextIO, err: TextIO) -> int:
    from kiosk.scanner import Scanner, ScanResult, SourceState, SourceStatus
    from kiosk.scanner.sources import open_source

    stop = threading.Event()

    def on_result(result: ScanResult) -> None:
        code = result.code
        if as_json:
            doc = {"text": code.text, "format": code.format, "decoder": code.decoder}
            print(json.dumps(doc, ensure_ascii=False), file=out, flush=True)
        else:
            print(f"{code.format} {_printable(code.text)!r} ({code.decoder})", file=out, flush=True)

    def on_status(status: SourceStatus) -> None:
        if status.state is SourceState.RUNNING:
            print(f"kiosk scan: reading {status.detail}; ctrl+c stops", file=err, flush=True)

    scanner = Scanner(
        open_source(spec),
        chain,
        on_result=on_result,
        on_status=on_status,
        should_stop=stop.is_set,
    )
    # The scan runs in a thread so that ctrl+c (delivered to the main thread) stops it cleanly
    # and the camera is released.
    outcome: list[SourceStatus] = []
    worker = threading.Thread(target=lambda: outcome.append(scanner.run()), daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        worker.join(5)
    final = outcome[0] if outcome else SourceStatus(SourceState.STOPPED)
    messages = {
        SourceState.NO_CAMERA: "no camera",
        SourceState.CAMERA_BUSY: "the camera is in use by another program",
        SourceState.NO_PERMISSION: "no permission to use the camera",
        SourceState.UNREADABLE: "cannot read",
    }
    if final.state in messages:
        print(f"kiosk scan: {messages[final.state]} ({final.detail})", file=err)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(run(sys.argv[1:]))
