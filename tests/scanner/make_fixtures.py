"""Make the scanner's test media: QR codes rendered into scenes with the damage real photos have.

Run ``uv run python tests/scanner/make_fixtures.py`` to rewrite ``tests/fixtures/scanner/``; the output
is deterministic (fixed seeds), so re-running it changes nothing unless this script changed. The bench
imports the scene functions from here to make its larger frame sets.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import segno

# OpenCV's stubs type images as arrays of any number type; these are uint8 throughout.
Gray = npt.NDArray[Any]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scanner"

TEXT_PAYLOAD = "Bonjour, badge kiosk!"
URL_PAYLOAD = "https://kiosk.example.org/welcome?site=DEMO"
CONNECT_PAYLOAD = "KC1:DEMO:1001:Q7ZK4M2XW9PB"
PAYLOADS = (TEXT_PAYLOAD, URL_PAYLOAD, CONNECT_PAYLOAD)


def qr_modules(payload: str, border: int = 4) -> Gray:
    """The code as a 0/255 array, one pixel per module, quiet zone included."""
    matrix = segno.make_qr(payload, error="m").matrix
    code = np.array([[0 if cell else 255 for cell in row] for row in matrix], dtype=np.uint8)
    return np.pad(code, border, constant_values=255)


def background(rng: np.random.Generator, width: int, height: int) -> Gray:
    """A desk-like scene: a lighting gradient, a few shapes and some texture, so no frame is flat."""
    xs = np.linspace(0, 1, width, dtype=np.float32)
    ys = np.linspace(0, 1, height, dtype=np.float32)
    base = 90 + 80 * np.outer(ys, np.ones_like(xs)) * rng.uniform(0.3, 1) + 40 * xs[None, :]
    img = base.astype(np.float32)
    for _ in range(6):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = (
            int(rng.integers(width // 10, width // 3)),
            int(rng.integers(height // 10, height // 3)),
        )
        cv2.rectangle(img, (x, y), (x + w, y + h), float(rng.integers(30, 230)), -1)
    for _ in range(4):
        center = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.circle(
            img, center, int(rng.integers(10, height // 4)), float(rng.integers(30, 230)), -1
        )
    soft = cv2.GaussianBlur(img, (0, 0), 3) + rng.normal(0, 4, img.shape)
    return np.clip(soft, 0, 255).astype(np.uint8)


def place(
    scene: Gray,
    code: Gray,
    size: int,
    center: tuple[float, float],
    *,
    angle: float = 0.0,
    tilt: float = 0.0,
) -> Gray:
    """Paste ``code`` scaled to ``size`` pixels at ``center``, rotated and seen at a slant ``tilt``."""
    h, w = code.shape
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    half = size / 2
    # Perspective: the far edge shrinks, as when a phone or a card is held at an angle.
    corners = np.array(
        [[-half * (1 - tilt), -half], [half * (1 - tilt), -half], [half, half], [-half, half]],
        dtype=np.float32,
    )
    theta = np.deg2rad(angle)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]], np.float32)
    dst = corners @ rot.T + np.array(center, dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    height, width = scene.shape
    warped = cv2.warpPerspective(code, matrix, (width, height), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(
        np.full_like(code, 255), matrix, (width, height), flags=cv2.INTER_NEAREST
    )
    out = scene.copy()
    out[mask > 0] = warped[mask > 0]
    return out


def invert(img: Gray) -> Gray:
    return (255 - img).astype(np.uint8)


def low_contrast(img: Gray, lo: int = 105, hi: int = 150) -> Gray:
    return (lo + img.astype(np.float32) * (hi - lo) / 255).astype(np.uint8)


def blur(img: Gray, sigma: float) -> Gray:
    return cv2.GaussianBlur(img, (0, 0), sigma)


def motion_blur(img: Gray, length: int) -> Gray:
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    return cv2.filter2D(img, -1, kernel)


def glare(img: Gray, center: tuple[int, int], radius: int, strength: float = 1.0) -> Gray:
    """A bright specular blob, as a lamp reflected on a phone screen or a laminated card."""
    h, w = img.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dist2 = (xx - center[0]) ** 2 + (yy - center[1]) ** 2
    blob = np.exp(-dist2 / (2 * (radius / 2) ** 2)) * 255 * strength
    out: Gray = np.clip(img.astype(np.float32) + blob, 0, 255).astype(np.uint8)
    return out


def noise(img: Gray, rng: np.random.Generator, sigma: float) -> Gray:
    noisy = img.astype(np.float32) + rng.normal(0, sigma, img.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def gamma(img: Gray, value: float) -> Gray:
    """Exposure gone wrong: above 1 darkens the mid-tones (an underexposed photo), below 1
    lightens them (overexposed)."""
    table = np.array([255 * (i / 255) ** value for i in range(256)], dtype=np.float32)
    return np.clip(table, 0, 255).astype(np.uint8)[img]


def defocus(img: Gray, radius: int) -> Gray:
    """A lens out of focus: a disc kernel, not a Gaussian (its edges ring)."""
    size = 2 * radius + 1
    kernel = np.zeros((size, size), np.float32)
    cv2.circle(kernel, (radius, radius), radius, 1.0, -1)
    kernel /= kernel.sum()
    return cv2.filter2D(img, -1, kernel)


def curve(img: Gray, depth: float) -> Gray:
    """The frame bent like a label on a bottle: each column sinks by the square of its distance
    from the middle (`depth` of the height at the edges)."""
    h, w = img.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bend = depth * h * ((xx - w / 2) / (w / 2)) ** 2
    bent = cv2.remap(img, xx, yy - bend, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(bent, dtype=np.uint8)


def jpeg(img: Gray, quality: int) -> Gray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    decoded = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return np.asarray(decoded, dtype=np.uint8)


@dataclass(frozen=True)
class ImageCase:
    """One still image: a file name, the payload it holds (None: no code) and how it is made."""

    name: str
    payload: str | None
    make: Callable[[np.random.Generator, int, int], Gray]


def _scene_with(
    payload: str, size: int, *, angle: float = 0.0, tilt: float = 0.0, at: float = 0.5
) -> Callable[[np.random.Generator, int, int], Gray]:
    def make(rng: np.random.Generator, width: int, height: int) -> Gray:
        scene = background(rng, width, height)
        scale = min(width, height) / 480
        placed = place(
            scene,
            qr_modules(payload),
            int(size * scale),
            (width * at, height / 2),
            angle=angle,
            tilt=tilt,
        )
        # A camera's lens never renders a perfectly sharp edge; some decoders depend on that.
        return blur(placed, 0.7 * scale)

    return make


def _then(
    make: Callable[[np.random.Generator, int, int], Gray],
    damage: Callable[[Gray, np.random.Generator], Gray],
) -> Callable[[np.random.Generator, int, int], Gray]:
    def made(rng: np.random.Generator, width: int, height: int) -> Gray:
        return damage(make(rng, width, height), rng)

    return made


def damage_kinds() -> dict[str, Callable[[Gray, np.random.Generator], Gray]]:
    """Damage real photos of codes have, applied to a scene: from none to what defeats zxing-cpp
    alone (the hard frames of `hard_frames`, for the scanner's bench and its tests)."""
    return {
        "clean": lambda im, rng: im,
        "small": lambda im, rng: im,
        "inverted": lambda im, rng: invert(im),
        "low_contrast": lambda im, rng: low_contrast(im),
        "very_low_contrast": lambda im, rng: low_contrast(im, 120, 140),
        "blur": lambda im, rng: blur(im, 2.2),
        "heavy_blur": lambda im, rng: blur(im, 4.0),
        "motion_blur": lambda im, rng: motion_blur(im, 9),
        "glare": lambda im, rng: glare(
            im, (im.shape[1] // 2, im.shape[0] // 2), im.shape[0] // 4, 0.8
        ),
        "noise": lambda im, rng: noise(im, rng, 30),
        "jpeg": lambda im, rng: jpeg(im, 10),
        "jpeg_q20": lambda im, rng: jpeg(im, 20),
        "gamma_dark": lambda im, rng: gamma(im, 2.5),
        "gamma_bright": lambda im, rng: gamma(im, 0.4),
        "defocus": lambda im, rng: defocus(im, 4),
        "curved": lambda im, rng: curve(im, 0.08),
        "glare_inverted": lambda im, rng: invert(
            glare(im, (im.shape[1] // 2, im.shape[0] // 2), im.shape[0] // 5, 0.6)
        ),
    }


def hard_frames(
    count: int, width: int, height: int, seed: int
) -> list[tuple[str, str | None, Gray]]:
    """`count` frames, half of them holding one of the project's payloads (varied size, angle,
    slant, and each kind of damage in turn), half holding none: (damage kind or "none", payload
    or None, frame)."""
    rng = np.random.default_rng(seed)
    kinds = damage_kinds()
    names = list(kinds)
    frames: list[tuple[str, str | None, Gray]] = []
    for i in range(count):
        if i % 2:
            scene = background(rng, width, height)
            frames.append(("none", None, noise(scene, rng, 3)))
            continue
        payload = PAYLOADS[i // 2 % len(PAYLOADS)]
        kind = names[i // 2 % len(names)]
        size = float(rng.uniform(0.25, 0.6)) * min(width, height)
        if kind == "small":
            # Small in the frame: modules of about 2 pixels at 720p (a code held far away).
            size = float(rng.uniform(0.11, 0.14)) * min(width, height)
        make = _scene_with(
            payload,
            int(size * 480 / min(width, height)),
            angle=float(rng.uniform(-40, 40)),
            tilt=float(rng.uniform(0, 0.4)),
            at=float(rng.uniform(0.35, 0.65)),
        )
        frames.append((kind, payload, kinds[kind](make(rng, width, height), rng)))
    return frames


def image_cases() -> list[ImageCase]:
    """The still images: a clean one, then one per kind of damage real photos have."""
    t, u, c = TEXT_PAYLOAD, URL_PAYLOAD, CONNECT_PAYLOAD
    return [
        ImageCase("clean.png", c, _scene_with(c, 260)),
        ImageCase("inverted.jpg", u, _then(_scene_with(u, 260), lambda im, _: invert(im))),
        ImageCase(
            "low_contrast.jpg", c, _then(_scene_with(c, 260), lambda im, _: low_contrast(im))
        ),
        ImageCase("blur.jpg", t, _then(_scene_with(t, 260), lambda im, _: blur(im, 2.2))),
        ImageCase(
            "motion_blur.jpg", c, _then(_scene_with(c, 260), lambda im, _: motion_blur(im, 7))
        ),
        ImageCase("perspective.jpg", u, _scene_with(u, 280, angle=25, tilt=0.35)),
        ImageCase("rotated.jpg", t, _scene_with(t, 240, angle=135)),
        ImageCase(
            "glare.jpg",
            c,
            _then(_scene_with(c, 260), lambda im, _: glare(im, (300, 230), 110, 0.75)),
        ),
        ImageCase("small.jpg", t, _scene_with(t, 62, at=0.3)),
        ImageCase("noise.jpg", u, _then(_scene_with(u, 220), lambda im, rng: noise(im, rng, 28))),
        ImageCase("jpeg_q12.jpg", c, _then(_scene_with(c, 200), lambda im, _: jpeg(im, 12))),
        # Two cases zxing-cpp alone misses and the file chain reads (OpenCV, or local thresholding).
        ImageCase(
            "very_low_contrast.jpg",
            c,
            _then(_scene_with(c, 220), lambda im, _: low_contrast(im, 120, 140)),
        ),
        ImageCase("heavy_blur.jpg", c, _then(_scene_with(c, 220), lambda im, _: blur(im, 4.0))),
        ImageCase("no_code.jpg", None, lambda rng, w, h: background(rng, w, h)),
    ]


@dataclass(frozen=True)
class VideoPlan:
    """What a test video shows, frame by frame: the payload in view (or None) and where."""

    frames: list[tuple[str | None, float]]  # payload, horizontal centre as a share of the width


def enter_stay_leave_plan() -> VideoPlan:
    """Code A slides in, stays, slides out; a gap; code B appears and stays; a gap."""
    frames: list[tuple[str | None, float]] = [(None, 0.0)] * 5
    frames += [(URL_PAYLOAD, x) for x in (-0.25, 0.0, 0.2)]  # entering: cut by the edge
    frames += [(URL_PAYLOAD, 0.45 + 0.01 * (i % 3)) for i in range(10)]  # held, hand shake
    frames += [(URL_PAYLOAD, x) for x in (0.8, 1.05, 1.3)]  # leaving
    frames += [(None, 0.0)] * 5
    frames += [(CONNECT_PAYLOAD, 0.5 - 0.01 * (i % 2)) for i in range(10)]
    frames += [(None, 0.0)] * 4
    return VideoPlan(frames)


def render_plan(plan: VideoPlan, width: int, height: int, seed: int) -> list[Gray]:
    rng = np.random.default_rng(seed)
    scene = background(rng, width, height)
    size = int(min(width, height) * 0.6)
    out = []
    for payload, at in plan.frames:
        frame = (
            scene
            if payload is None
            else place(scene, qr_modules(payload), size, (width * at, height / 2), angle=3.0)
        )
        out.append(noise(frame, rng, 3))
    return out


def write_video(path: Path, frames: list[Gray], fps: float, quality: int = 60) -> None:
    """Write grayscale frames as an MJPG AVI: what a USB camera sends, and readable by this OpenCV."""
    height, width = frames[0].shape
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {path}")
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, quality)
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()


def main(out_dir: Path = FIXTURES) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, object] = {"images": {}, "videos": {}}
    images: dict[str, str | None] = {}
    for index, case in enumerate(image_cases()):
        img = case.make(np.random.default_rng(1000 + index), 640, 480)
        # Photos come as JPEG; the heavy-compression case was already compressed by its damage step.
        quality = 12 if case.name.startswith("jpeg_q12") else 88
        params = [cv2.IMWRITE_JPEG_QUALITY, quality] if case.name.endswith(".jpg") else []
        cv2.imwrite(str(out_dir / case.name), img, params)
        images[case.name] = case.payload
    manifest["images"] = images

    plan = enter_stay_leave_plan()
    write_video(out_dir / "enter_stay_leave.avi", render_plan(plan, 320, 240, seed=7), fps=10)
    manifest["videos"] = {"enter_stay_leave.avi": [URL_PAYLOAD, CONNECT_PAYLOAD]}

    # The error path: a file that is no image at all, and a PNG cut short.
    (out_dir / "not_an_image.png").write_text("this is text, not a picture\n")
    clean = (out_dir / "clean.png").read_bytes()
    (out_dir / "truncated.png").write_bytes(clean[: len(clean) // 3])
    manifest["errors"] = ["not_an_image.png", "truncated.png"]

    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
