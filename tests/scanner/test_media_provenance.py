"""The committed scanner media are what tests/scanner/make_fixtures.py makes: nothing in
tests/fixtures/scanner/ was touched up by hand, and a change to the generator shows here.

The pictures are compared by their pixels, not their bytes: OpenCV's resampling and JPEG encoder take
different SIMD paths on different CPUs (AVX2 against AVX-512), which moves a few pixels by a grey
level or two and rewrites the compressed bytes. Measured on two machines: mean difference ≤ 0.04 grey
levels, at most 0.03% of the pixels off by more than 2. A touched-up or differently generated
picture moves far more than the bounds below; text files must be exact, and the cut-short PNG exactly
the first third of clean.png. That each committed file reads as its payload is test_scanner_files.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from tests.scanner.make_fixtures import FIXTURES, main

MEAN_GREY_LEVELS = 0.25
SHARE_OFF_BY_MORE_THAN_2 = 0.002


def _frames(path: Path) -> list[npt.NDArray[Any]]:
    if path.suffix == ".avi":
        capture = cv2.VideoCapture(str(path))
        frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
        capture.release()
        return frames
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert image is not None, f"{path.name} does not decode"
    return [image]


def _same_picture(made: Path, committed: Path) -> str | None:
    """Why the two files are not the same picture, or None."""
    mine, theirs = _frames(made), _frames(committed)
    if len(mine) != len(theirs) or not mine:
        return f"{len(mine)} frames made, {len(theirs)} committed"
    for index, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        if a.shape != b.shape:
            return f"frame {index}: {a.shape} made, {b.shape} committed"
        diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
        if diff.mean() > MEAN_GREY_LEVELS or (diff > 2).mean() > SHARE_OFF_BY_MORE_THAN_2:
            return (
                f"frame {index}: mean {diff.mean():.3f}, {(diff > 2).mean():.4%} off by more than 2"
            )
    return None


def test_committed_media_are_made_by_the_generator(tmp_path: Path) -> None:
    assert main(tmp_path) == 0
    made = {path.name: path for path in tmp_path.iterdir()}
    committed = {path.name: path for path in FIXTURES.iterdir()}
    assert sorted(made) == sorted(committed)
    differing: dict[str, str] = {}
    for name, path in made.items():
        if path.read_bytes() == committed[name].read_bytes():
            continue
        if name == "truncated.png":
            # The first third of clean.png, whose bytes are the encoder's: the rule must hold exactly.
            clean = committed["clean.png"].read_bytes()
            if committed[name].read_bytes() != clean[: len(clean) // 3]:
                differing[name] = "not the first third of clean.png"
        elif path.suffix in {".jpg", ".png", ".avi"}:
            reason = _same_picture(path, committed[name])
            if reason:
                differing[name] = reason
        else:
            differing[name] = "bytes differ"
    assert not differing, f"regenerate with make_fixtures.py: {differing}"


def test_the_comparison_sees_a_touched_up_picture(tmp_path: Path) -> None:
    """The tolerance is not so loose that a retouched code would pass."""
    image = cv2.imread(str(FIXTURES / "clean.png"), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    touched = image.copy()
    height, width = touched.shape
    touched[height // 3 : height // 3 + 40, width // 3 : width // 3 + 40] = 255  # a white patch
    cv2.imwrite(str(tmp_path / "clean.png"), touched)
    assert _same_picture(tmp_path / "clean.png", FIXTURES / "clean.png") is not None
    assert _same_picture(FIXTURES / "clean.png", FIXTURES / "clean.png") is None
