"""The live policy on 720p frames: its cheap passes (half size, fixed threshold) and the full-size
passes behind them each read what they are there for, and report where the code is in the frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kiosk.scanner import Scanner, ScanResult, VideoFileSource
from tests.scanner import make_fixtures as mf

WIDTH, HEIGHT = 1280, 720
BIG = "KC1:DEMO:1001:BIGCODE"
INVERTED = "KC1:DEMO:1002:INVERTED"
SMALL_DIM = "KC1:DEMO:1003:SMALLDIM"


def _scene(rng: np.random.Generator) -> mf.Gray:
    return mf.background(rng, WIDTH, HEIGHT)


def _with_code(
    scene: mf.Gray, payload: str, size: int, center: tuple[int, int], angle: float
) -> mf.Gray:
    return mf.blur(mf.place(scene, mf.qr_modules(payload), size, center, angle=angle), 0.8)


def _video(tmp_path: Path) -> tuple[Path, dict[str, tuple[int, int]]]:
    rng = np.random.default_rng(11)
    scene = _scene(rng)
    centers = {BIG: (700, 380), INVERTED: (400, 300), SMALL_DIM: (900, 300)}
    big = _with_code(scene, BIG, 360, centers[BIG], angle=15)
    inverted = mf.invert(_with_code(scene, INVERTED, 300, centers[INVERTED], angle=-20))
    # A code 90 px wide in a dim room: too small for the half-size pass and too dark for the
    # fixed threshold; only the full-size local-average pass, run every few frames, reads it.
    small_dim = (_with_code(scene, SMALL_DIM, 90, centers[SMALL_DIM], angle=10) * 0.35).astype(
        np.uint8
    )
    frames = [scene] * 3 + [big] * 3 + [scene] * 3 + [inverted] * 3 + [scene] * 3
    frames += [small_dim] * 6 + [scene] * 3
    path = tmp_path / "720p.avi"
    mf.write_video(path, frames, 30, quality=90)
    return path, centers


def test_a_720p_video_gives_each_code_once_with_its_place_in_the_full_frame(
    tmp_path: Path,
) -> None:
    video, centers = _video(tmp_path)
    results: list[ScanResult] = []
    Scanner(VideoFileSource(video), chain=["zxing"], on_result=results.append).run()
    assert [r.code.text for r in results] == [BIG, INVERTED, SMALL_DIM]
    for result in results:
        # Corners found on the half-size frame are reported in the captured frame's pixels.
        assert result.code.corners is not None
        xs = [x for x, _ in result.code.corners]
        ys = [y for _, y in result.code.corners]
        cx, cy = centers[result.code.text]
        assert abs(sum(xs) / 4 - cx) < 20 and abs(sum(ys) / 4 - cy) < 20
        assert all(0 <= x <= WIDTH and 0 <= y <= HEIGHT for x, y in result.code.corners)


def test_frames_without_a_code_give_nothing_at_720p(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    frames = [mf.noise(_scene(rng), rng, 3) for _ in range(12)]
    path = tmp_path / "empty.avi"
    mf.write_video(path, frames, 30)
    results: list[ScanResult] = []
    scanner = Scanner(VideoFileSource(path), on_result=results.append)
    scanner.run()
    assert scanner.frames_decoded == 12
    assert results == []
