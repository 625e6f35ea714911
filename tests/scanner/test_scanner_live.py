"""The live loop on real video files, and sources that cannot start."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import cv2
import numpy as np
import segno

from kiosk.scanner import (
    CameraSource,
    PreviewFrame,
    Scanner,
    ScanResult,
    SourceState,
    SourceStatus,
    VideoFileSource,
    open_source,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scanner"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
STOP_SECONDS = 10
"""How long a scan may take to see its first code, or to stop once asked."""


def test_each_payload_is_reported_once_in_order_with_previews_and_a_frame_around_it() -> None:
    results: list[ScanResult] = []
    previews: list[PreviewFrame] = []
    statuses: list[SourceStatus] = []
    source = VideoFileSource(FIXTURES / "enter_stay_leave.avi")
    scanner = Scanner(
        source,
        on_result=results.append,
        on_frame=previews.append,
        on_status=statuses.append,
        preview_fps=1000,  # every frame: the test reads them all faster than real time
    )
    final = scanner.run()
    assert [r.code.text for r in results] == MANIFEST["videos"]["enter_stay_leave.avi"]
    assert final.state is SourceState.ENDED
    assert [s.state for s in statuses] == [
        SourceState.OPENING,
        SourceState.RUNNING,
        SourceState.ENDED,
    ]
    assert source.released
    assert all(p.pixels.shape == (120, 160) and p.source_size == (320, 240) for p in previews)
    # While a code is in view the preview carries its corners, inside the preview.
    framed = [p for p in previews if p.corners is not None]
    assert framed
    assert all(0 <= x <= 160 and 0 <= y <= 120 for p in framed for x, y in p.corners or ())
    assert previews[0].corners is None  # the video opens on frames without a code


def _long_video(path: Path, frames: int) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 30, (160, 120))
    modules = np.array(segno.make_qr("KC1:DEMO:1001:X").matrix, dtype=np.uint8)
    code = cv2.resize(
        np.pad((1 - modules) * 255, 4, constant_values=255),
        (100, 100),
        interpolation=cv2.INTER_NEAREST,
    )
    frame = np.full((120, 160, 3), 128, np.uint8)
    frame[10:110, 30:130] = code[:, :, None]
    for _ in range(frames):
        writer.write(frame)
    writer.release()


def test_a_scan_stops_when_asked_and_releases_its_source(tmp_path: Path) -> None:
    video = tmp_path / "long.avi"
    _long_video(video, 600)  # 20 s at real-time pace
    source = VideoFileSource(video, realtime=True)
    seen = threading.Event()
    stop = threading.Event()
    scanner = Scanner(source, on_result=lambda _: seen.set(), should_stop=stop.is_set)
    outcome: list[SourceStatus] = []
    worker = threading.Thread(target=lambda: outcome.append(scanner.run()), daemon=True)
    worker.start()
    try:
        assert seen.wait(STOP_SECONDS)
    finally:
        stop.set()  # a failed wait must not leave the scan running
        worker.join(STOP_SECONDS)
    assert not worker.is_alive()
    assert outcome[0].state is SourceState.STOPPED
    assert source.released
    assert source.frames_read < 600


def test_stop_from_another_thread_also_stops_the_scan(tmp_path: Path) -> None:
    video = tmp_path / "long.avi"
    _long_video(video, 600)
    scanner = Scanner(VideoFileSource(video, realtime=True))
    worker = threading.Thread(target=scanner.run, daemon=True)
    worker.start()
    scanner.stop()
    worker.join(STOP_SECONDS)
    assert not worker.is_alive()
    assert scanner.source.released


def test_a_missing_camera_index_is_a_state_not_an_exception() -> None:
    statuses: list[SourceStatus] = []
    source = open_source(63)  # no machine of ours has 64 cameras
    assert isinstance(source, CameraSource)
    final = Scanner(source, on_status=statuses.append).run()
    assert final.state is SourceState.NO_CAMERA
    assert final.state.is_failure
    assert statuses[-1] == final
    assert source.released


def test_a_missing_camera_device_is_a_state_not_an_exception() -> None:
    source = open_source("/dev/video99")
    assert isinstance(source, CameraSource)
    final = Scanner(source).run()
    assert final.state is SourceState.NO_CAMERA
    assert "/dev/video99" in final.detail


def test_a_device_that_is_no_camera_is_reported_not_raised() -> None:
    # /dev/null opens fine but is no video device: OpenCV cannot capture from it.
    final = Scanner(CameraSource("/dev/null")).run()
    assert final.state.is_failure


def test_a_video_that_is_not_a_video_is_unreadable(tmp_path: Path) -> None:
    bogus = tmp_path / "clip.avi"
    bogus.write_text("not a video")
    assert Scanner(VideoFileSource(bogus)).run().state is SourceState.UNREADABLE


def test_importing_the_scanner_loads_no_opencv() -> None:
    import subprocess
    import sys

    code = "import sys, kiosk.scanner; print('cv2' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run(  # noqa: S603 - our own interpreter, a fixed snippet
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.split() == ["False", "False"]
