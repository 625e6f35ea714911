"""The decoders and the file policy on the committed media (made by make_fixtures.py)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from kiosk.scanner import DECODER_NAMES, build_chain, scan_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scanner"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
IMAGES: dict[str, str | None] = MANIFEST["images"]
CLEAN_PAYLOAD = IMAGES["clean.png"]


@pytest.mark.parametrize("name", DECODER_NAMES)
def test_each_decoder_reads_the_clean_image(name: str) -> None:
    chain = build_chain([name])
    assert chain.names == [name], chain.skipped
    frame = cv2.imread(str(FIXTURES / "clean.png"))
    assert frame is not None
    codes = chain.decoders[0].decode(frame)
    assert [(c.text, c.format, c.decoder) for c in codes] == [(CLEAN_PAYLOAD, "QRCode", name)]
    assert codes[0].corners is not None


@pytest.mark.parametrize("name", DECODER_NAMES)
def test_no_decoder_reads_a_payload_in_a_scene_without_code(name: str) -> None:
    frame = cv2.imread(str(FIXTURES / "no_code.jpg"))
    assert frame is not None
    assert build_chain([name]).decoders[0].decode(frame) == []


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_the_file_chain_reads_each_hard_case_exactly(name: str) -> None:
    result = scan_file(FIXTURES / name)
    assert result.error is None
    expected = IMAGES[name]
    assert [c.text for c in result.codes] == ([expected] if expected else [])


def test_a_video_reports_each_payload_once_in_order() -> None:
    result = scan_file(FIXTURES / "enter_stay_leave.avi")
    assert result.error is None
    assert [c.text for c in result.codes] == MANIFEST["videos"]["enter_stay_leave.avi"]


@pytest.mark.parametrize("name", [*MANIFEST["errors"], "missing.png", "missing.avi"])
def test_an_unreadable_file_is_an_error_not_a_crash(name: str) -> None:
    result = scan_file(FIXTURES / name)
    assert result.codes == []
    assert result.error is not None and name in result.error


def test_a_chain_naming_an_unavailable_decoder_skips_it_and_still_reads() -> None:
    chain = build_chain(["quirc", "zxing", "opencv"])
    assert chain.names == ["zxing", "opencv"]
    assert "quirc" in chain.skipped
    assert [c.text for c in scan_file(FIXTURES / "very_low_contrast.jpg", chain).codes] == [
        IMAGES["very_low_contrast.jpg"]
    ]
