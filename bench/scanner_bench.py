"""Scanner benchmark: decoders alone, the live policy and the file chain on generated frames, and
the live loop reading a 30 fps 720p MJPG video at real-time pace.

Run: ``uv run python bench/scanner_bench.py [--frames 320]``. Prints figures; asserts nothing.
``--quick`` measures only zxing-cpp alone and the live policy on the 720p frames (seconds, not
minutes, while tuning the policy); ``--photos DIR`` only the real photos.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.scanner import Scanner, ScanResult, VideoFileSource, build_chain
from kiosk.scanner.policy import LivePolicy, decode_thoroughly, to_gray


def _fixtures_module() -> ModuleType:
    path = ROOT / "tests" / "scanner" / "make_fixtures.py"
    spec = importlib.util.spec_from_file_location("make_fixtures", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_fixtures"] = module
    spec.loader.exec_module(module)
    return module


mf = _fixtures_module()


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000


def measure(
    label: str, decode: Callable[[Any], list[Any]], frames: list[tuple[str, str | None, Any]]
) -> set[int]:
    """Read every frame once; print reads, wall-clock and CPU milliseconds per frame.

    CPU time (this thread's) is printed beside wall-clock time because on a shared machine other
    processes stretch the wall-clock figures: the CPU figures are what a quiet kiosk would see.
    """
    times: list[float] = []
    cpu: list[float] = []
    read: set[int] = set()
    false = 0
    with_code = sum(1 for _, p, _ in frames if p)
    for index, (_, payload, frame) in enumerate(frames):
        began = time.perf_counter()
        cpu_began = time.thread_time()
        texts = [c.text for c in decode(frame)]
        cpu.append(time.thread_time() - cpu_began)
        times.append(time.perf_counter() - began)
        if payload is not None and payload in texts:
            read.add(index)
        false += sum(1 for t in texts if t != payload)
    print(
        f"  {label:<14} read {len(read):>3}/{with_code} ({100 * len(read) / with_code:5.1f}%)"
        f"  median {_pct(times, 50):6.2f} ms  p95 {_pct(times, 95):6.2f} ms"
        f"  (CPU {_pct(cpu, 50):6.2f} / {_pct(cpu, 95):6.2f})  false payloads {false}"
    )
    return read


def _live_decoder(policy: LivePolicy) -> Callable[[Any], list[Any]]:
    def decode(frame: Any) -> list[Any]:
        return policy.decode(frame)[0]

    return decode


HELD = 3
"""Frames a person holds a code still for, at least (100 ms at 30 fps)."""


def held(policy: LivePolicy, frames: list[tuple[str, str | None, Any]]) -> set[int]:
    """The codes the live policy reads when each is held in front of the camera for `HELD`
    frames in a row (the live loop sees a code many times; some passes run every few frames)."""
    read: set[int] = set()
    for index, (_, payload, frame) in enumerate(frames):
        if payload is None:
            continue
        for _ in range(HELD):
            if payload in [code.text for code in policy.decode(frame)[0]]:
                read.add(index)
                break
    return read


def bench_decoding(count: int, quick: bool = False) -> None:
    chain = build_chain()
    if chain.skipped:
        print("skipped decoders:", chain.skipped)
    sizes = ((1280, 720),) if quick else ((640, 480), (1280, 720))
    for width, height in sizes:
        frames = mf.hard_frames(count, width, height, seed=width)
        print(f"\n{count} frames at {width}x{height} (half with a code):")
        grays = [(k, p, to_gray(f)) for k, p, f in frames]
        per_decoder = {}
        for decoder in chain.decoders:
            if quick and decoder.name != "zxing":
                continue
            per_decoder[decoder.name] = measure(f"{decoder.name} alone", decoder.decode, grays)
        live = measure("live policy", _live_decoder(LivePolicy(chain)), grays)
        if quick:
            zx = per_decoder.get("zxing", set())
            print(f"  read by the live policy, missed by zxing-cpp alone: {len(live - zx)}")
            print(f"  read by zxing-cpp alone, missed by the live policy: {len(zx - live)}")
            still = held(LivePolicy(chain), grays)
            print(f"  live policy, each code held for {HELD} frames: read {len(still)}")
            for kind in sorted({k for k, p, _ in frames if p}):
                idx = {i for i, (k, _, _) in enumerate(frames) if k == kind}
                print(
                    f"    {kind:<18} zxing {len(idx & zx):>2}/{len(idx)}  live {len(idx & live):>2}"
                    f"  held {len(idx & still):>2}"
                )
            continue
        whole = measure("whole chain", lambda f: decode_thoroughly(f, chain), grays)
        zx = per_decoder.get("zxing", set())
        print(f"  read by the live policy, missed by zxing-cpp alone: {len(live - zx)}")
        print(f"  read by zxing-cpp alone, missed by the live policy: {len(zx - live)}")
        print(f"  read by the whole chain, missed by zxing-cpp alone: {len(whole - zx)}")
        kinds = sorted({k for k, p, _ in frames if p})
        for kind in kinds:
            idx = {i for i, (k, _, _) in enumerate(frames) if k == kind}
            print(
                f"    {kind:<18} zxing {len(idx & zx):>2}/{len(idx)}  live {len(idx & live):>2}"
                f"  chain {len(idx & whole):>2}"
            )


def bench_live_loop(seconds: float) -> None:
    fps = 30
    frames = []
    rng = np.random.default_rng(3)
    scene = mf.background(rng, 1280, 720)
    code_at: set[int] = set()
    total = int(seconds * fps)
    for i in range(total):
        # A code appears for one second out of every three, a new payload each time.
        shown = (i // fps) % 3 == 1
        if shown:
            payload = f"{mf.CONNECT_PAYLOAD}-{i // (3 * fps)}"
            frame = mf.place(scene, mf.qr_modules(payload), 320, (640 + (i % 5), 360), angle=5)
            code_at.add(i)
        else:
            frame = scene
        frames.append(mf.noise(mf.blur(frame, 0.8), rng, 2))
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "live.avi"
        mf.write_video(video, frames, fps, quality=85)
        first_shown = {i for i in code_at if i - 1 not in code_at}
        # The time each code's first frame is due, relative to the start of playback.
        latencies: list[float] = []
        source = VideoFileSource(video, realtime=True)
        start_holder: list[float] = []

        def on_result(result: ScanResult) -> None:
            now = time.monotonic()
            first = max(i for i in first_shown if i <= int((now - start_holder[0]) * fps) + 1)
            latencies.append(now - (start_holder[0] + first / fps))

        scanner = Scanner(source, on_result=on_result)
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        wall0 = time.monotonic()
        start_holder.append(wall0)
        scanner.run()
        wall = time.monotonic() - wall0
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    print(f"\nlive loop on a {seconds:.0f} s 30 fps 1280x720 MJPG video at real-time pace:")
    print(
        f"  frames decoded {scanner.frames_decoded}/{total}  ({scanner.frames_decoded / wall:.1f} frames/s)"
    )
    print(f"  CPU {100 * cpu / wall:.1f}% of one core (MJPG decoding included)")
    d = scanner.decode_seconds
    print(f"  per-frame decode median {_pct(d, 50):.2f} ms  p95 {_pct(d, 95):.2f} ms")
    print(f"  codes reported {len(latencies)}/{len(first_shown)}")
    if latencies:
        print(
            f"  delay from the code's first frame to the result: median "
            f"{statistics.median(latencies) * 1000:.0f} ms  p95 {_pct(latencies, 95):.0f} ms"
        )


def bench_fixtures() -> None:
    import cv2

    fixtures = ROOT / "tests" / "fixtures" / "scanner"
    import json

    manifest = json.loads((fixtures / "manifest.json").read_text())
    chain = build_chain()
    print("\ncommitted fixture images (640x480): which decoders read them")
    for name, payload in sorted(manifest["images"].items()):
        img = cv2.imread(str(fixtures / name), cv2.IMREAD_GRAYSCALE)
        assert img is not None
        row = []
        for decoder in chain.decoders:
            texts = [c.text for c in decoder.decode(img)]
            row.append(
                f"{decoder.name}:{'yes' if texts == ([payload] if payload else []) else 'no '}"
            )
        chain_ok = [c.text for c in decode_thoroughly(img, chain)] == ([payload] if payload else [])
        print(f"  {name:<22} {'  '.join(row)}  chain:{'yes' if chain_ok else 'no'}")


def bench_photos(folder: Path) -> None:
    """Real photos of QR codes: every image under `folder` that has a `.txt` beside it with the
    payload it holds (the layout of zxing's "blackbox" sample sets). Not shipped with the project:
    point this at a folder of photos you are allowed to use."""
    import cv2

    cases: list[tuple[str, str | None, Any]] = []
    for text_file in sorted(folder.rglob("*.txt")):
        if text_file.name.endswith(".result.txt"):
            continue
        for suffix in (".jpg", ".jpeg", ".png", ".webp"):
            image_path = text_file.with_suffix(suffix)
            if image_path.exists():
                image = cv2.imread(str(image_path), cv2.IMREAD_GRAYSCALE)
                if image is not None:
                    payload = text_file.read_text(encoding="utf-8", errors="replace")
                    cases.append((image_path.name, _lines(payload), image))
                break
    if not cases:
        print(f"\nno photos with a payload .txt under {folder}")
        return
    chain = build_chain()
    print(f"\n{len(cases)} real photos under {folder}:")
    per_decoder = {}
    for decoder in chain.decoders:
        per_decoder[decoder.name] = measure(
            f"{decoder.name} alone", _newlines_folded(decoder.decode), cases
        )
    live = measure("live policy", _newlines_folded(_live_decoder(LivePolicy(chain))), cases)
    whole = measure("whole chain", _newlines_folded(lambda f: decode_thoroughly(f, chain)), cases)
    zx = per_decoder.get("zxing", set())
    print(f"  read by the live policy, missed by zxing-cpp alone: {len(live - zx)}")
    print(f"  read by zxing-cpp alone, missed by the live policy: {len(zx - live)}")
    print(f"  read by the whole chain, missed by zxing-cpp alone: {len(whole - zx)}")


def _lines(text: str) -> str:
    """Sample sets store payloads in text files whose line ends git may have changed."""
    return text.replace("\r\n", "\n")


def _newlines_folded(decode: Callable[[Any], list[Any]]) -> Callable[[Any], list[Any]]:
    def folded(frame: Any) -> list[Any]:
        return [SimpleNamespace(text=_lines(code.text)) for code in decode(frame)]

    return folded


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=320)
    parser.add_argument("--video-seconds", type=float, default=12.0)
    parser.add_argument(
        "--photos",
        type=Path,
        help="a folder of real photos, each with a .txt holding its payload (only this part runs)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="only zxing-cpp and the live policy at 720p"
    )
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # The figures are wall-clock times: on a shared machine, say how busy it was.
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if args.photos is not None:
        bench_photos(args.photos)
        return 0
    if args.quick:
        bench_decoding(args.frames, quick=True)
        return 0
    bench_fixtures()
    bench_decoding(args.frames)
    bench_live_loop(args.video_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
