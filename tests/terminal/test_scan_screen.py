"""Signing in by scanning, on the real service, with the real scanner reading video files made
here (OpenCV + segno) as a camera would deliver them: the connect QR leads to the PIN, other
codes get calm messages and the scan goes on, no camera leaves the keyboard path, and the camera
is released when the screen closes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import segno
from rich.style import Style
from textual.pilot import Pilot

from kiosk.app import KioskApp
from kiosk.screens.home import HomeScreen
from kiosk.screens.identifier import IdentifierScreen
from kiosk.screens.pin import PinScreen
from kiosk.screens.scan import ScanScreen
from kiosk.screens.verification import VerificationScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk.settings import CameraSettings, IdleSettings, SettingsError, load_settings
from kiosk.widgets.camera_preview import LEVELS, CameraPreview, level_strips, preview_levels
from kiosk_server.models import Account, Site
from kiosk_server.tokens import make_badge_token, make_connect_token, new_badge_secret
from tests.factories import Factory
from tests.terminal.conftest import (
    PIN,
    KioskFactory,
    screen_text,
    settle,
    stack,
    type_text,
    wait_until,
)

FPS = 15
FRAME_SIZE = (320, 240)
URL = "https://example.org/kiosk?next=%1B%5B31m"

Segment = tuple[str | None, float]
"""A stretch of video: the payload in view (None: a desk with no code) and its seconds."""


def _code_picture(payload: str, size: int) -> np.ndarray[Any, Any]:
    matrix = np.array(segno.make_qr(payload, error="m").matrix, dtype=np.uint8)
    modules = np.pad((1 - matrix) * 255, 4, constant_values=255).astype(np.uint8)
    return cv2.resize(modules, (size, size), interpolation=cv2.INTER_NEAREST)


def make_video(path: Path, segments: Sequence[Segment]) -> Path:
    """A small MJPG video, as a webcam delivers: a grey desk with a QR held up now and then."""
    width, height = FRAME_SIZE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, FRAME_SIZE)
    assert writer.isOpened()
    rng = np.random.default_rng(7)
    desk = np.clip(rng.normal(120, 12, (height, width)), 0, 255).astype(np.uint8)
    for payload, seconds in segments:
        frame = desk.copy()
        if payload is not None:
            code = _code_picture(payload, 180)
            top, left = (height - 180) // 2, (width - 180) // 2
            frame[top : top + 180, left : left + 180] = code
        colour = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        for _ in range(max(1, round(seconds * FPS))):
            writer.write(colour)
    writer.release()
    return path


async def connect_token(factory: Factory, site: Site, account: Account) -> str:
    """The token of the account's welcome-letter QR, made as the service makes it."""
    stored_site = await factory.get(Site, site.id)
    stored_account = await factory.get(Account, account.id)
    return make_connect_token(
        site_id=stored_site.id,
        account_id=stored_account.id,
        version=stored_account.connect_version,
        secret=stored_site.connect_secret,
    )


def camera(source: str | Path) -> CameraSettings:
    return CameraSettings(source=str(source), decoders=("zxing",), preview_fps=10)


async def open_scan(pilot: Pilot[Any]) -> ScanScreen:
    """From the welcome screen to the scan screen, as a person does. Returns the scan screen,
    which a fast scan may already have replaced."""
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    identifier = pilot.app.screen
    assert isinstance(identifier, IdentifierScreen)
    assert "Scanner mon QR" in screen_text(pilot.app)  # type: ignore[arg-type]
    shown: list[Any] = []
    pilot.app.screen_change_signal.subscribe(identifier, shown.append, immediate=True)
    await pilot.click("#scan")
    await pilot.pause()
    pilot.app.screen_change_signal.unsubscribe(identifier)
    assert shown
    assert isinstance(shown[0], ScanScreen)
    return shown[0]


def camera_released(screen: ScanScreen) -> bool:
    return screen.source is not None and screen.source.released


def no_camera_worker(app: KioskApp) -> bool:
    return not [worker for worker in app.workers if worker.group == "camera" and worker.is_running]


@pytest.mark.parametrize(
    ("state", "expected"),
    [("active", PinScreen), ("pending", VerificationScreen)],
)
async def test_scanning_the_letter_goes_on_as_typing_the_identifier(
    make_kiosk: KioskFactory,
    factory: Factory,
    site: Site,
    tmp_path: Path,
    state: str,
    expected: type[Any],
) -> None:
    account = await factory.account(
        site, "jeanne", name="Jeanne Martin", pin=PIN if state == "active" else None
    )
    token = await connect_token(factory, site, account)
    video = make_video(tmp_path / "letter.avi", [(None, 0.3), (token, 2.0), (None, 0.3)])
    app = make_kiosk(camera=camera(video))
    async with app.run_test(size=(80, 24)) as pilot:
        scan = await open_scan(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, expected))
        await settle(pilot)
        # The scan screen gave way (Back returns to the identifier) and let go of the camera.
        assert stack(app) == [WelcomeScreen, IdentifierScreen, expected]
        assert camera_released(scan)
        assert no_camera_worker(app)
        if state == "active":
            await type_text(pilot, PIN)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, HomeScreen)
            assert "Jeanne Martin" in screen_text(app)
        else:
            assert "Votre compte a été trouvé — activez-le" in screen_text(app)


async def test_other_codes_get_calm_messages_and_the_scan_goes_on(
    make_kiosk: KioskFactory, factory: Factory, site: Site, tmp_path: Path
) -> None:
    other_site = await factory.site("AILLEURS", name="Autre site")
    stranger = await factory.account(other_site, "paul", name="Paul Durand", pin=PIN)
    foreign = await connect_token(factory, other_site, stranger)
    badge = make_badge_token(site_id=site.id, account_id=1, secret=new_badge_secret(), step=1)
    video = make_video(
        tmp_path / "codes.avi",
        [
            # Each message stays until the next code replaces it: long enough for a test
            # that shares a busy machine to look at each one.
            (None, 0.2),
            (badge, 1.5),
            (None, 0.2),
            (foreign, 1.5),
            (None, 0.2),
            (URL, 1.5),
            (None, 0.2),
            ("V1INVITE42", 1.5),
            (None, 0.2),
        ],
    )
    app = make_kiosk(camera=camera(video))
    async with app.run_test(size=(80, 24)) as pilot:
        scan = await open_scan(pilot)
        preview = scan.query_one(CameraPreview)
        seen_framed = False

        def shows(text: str) -> Callable[[], bool]:
            def check() -> bool:
                nonlocal seen_framed
                seen_framed = seen_framed or preview.code_in_view
                return text in screen_text(app)

            return check

        await wait_until(pilot, shows("Ceci est un badge, pas votre QR code de connexion"))
        await wait_until(pilot, shows("Ce QR code est celui d'un autre site"))
        await wait_until(pilot, shows("Ce QR code contient une adresse web"))
        await wait_until(pilot, shows("Ceci est une invitation de visiteur"))
        assert isinstance(app.screen, ScanScreen)
        # What the camera saw was on screen, with a frame around each code in view; the
        # scanned text itself never was.
        assert preview.frames_shown > 0
        assert seen_framed
        assert "example.org" not in screen_text(app)
        assert foreign not in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, IdentifierScreen)
        assert camera_released(scan)


async def test_no_camera_leaves_the_keyboard_path(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    app = make_kiosk(camera=camera("/dev/video99"))
    async with app.run_test(size=(80, 24)) as pilot:
        scan = await open_scan(pilot)
        await wait_until(pilot, lambda: "Aucune caméra n'est disponible" in screen_text(app))
        await settle(pilot)
        assert no_camera_worker(app)
        assert scan.camera_state.is_failure
        await pilot.press("enter")  # Back has the focus
        await settle(pilot)
        assert isinstance(app.screen, IdentifierScreen)
        await pilot.click("#identifier")
        await type_text(pilot, "jeanne")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PinScreen)


async def test_leaving_releases_the_camera(
    make_kiosk: KioskFactory, site: Site, tmp_path: Path
) -> None:
    video = make_video(tmp_path / "desk.avi", [(None, 20.0)])
    app = make_kiosk(camera=camera(video))
    async with app.run_test(size=(80, 24)) as pilot:
        scan = await open_scan(pilot)
        preview = scan.query_one(CameraPreview)
        await wait_until(pilot, lambda: preview.frames_shown > 0)
        assert "Présentez le QR code de votre lettre" in screen_text(app)
        assert not camera_released(scan)
        await pilot.click("#back")
        await settle(pilot)
        assert isinstance(app.screen, IdentifierScreen)
        # Released while the screen closed, long before the video's end.
        assert camera_released(scan)
        assert no_camera_worker(app)


async def test_idle_on_the_scan_screen_releases_the_camera(
    make_kiosk: KioskFactory, site: Site, tmp_path: Path
) -> None:
    video = make_video(tmp_path / "desk.avi", [(None, 20.0)])
    app = make_kiosk(camera=camera(video))
    async with app.run_test(size=(80, 24)) as pilot:
        scan = await open_scan(pilot)
        app.settings = replace(
            app.settings,
            idle=IdleSettings(default_seconds=600, countdown_seconds=1, typing_seconds=1),
        )
        app.note_activity()
        await wait_until(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        await settle(pilot)
        assert camera_released(scan)
        assert no_camera_worker(app)


def test_the_preview_frames_a_code_in_view() -> None:
    pixels = np.full((120, 160), 200, dtype=np.uint8)
    pixels[40:80, 60:100] = 0
    corners = ((60.0, 40.0), (100.0, 40.0), (100.0, 80.0), (60.0, 80.0))
    levels = preview_levels(pixels, corners, 40, 15)
    # 160×120 pixels into 40 cells × 15 rows of two pixels: a quarter, aspect kept.
    assert levels.shape == (30, 40)
    assert levels[15, 20] == 0  # the dark code, drawn dark
    assert levels[0, 0] == 200 >> 3
    framed = np.argwhere(levels == LEVELS)
    assert framed.size
    top, left = framed.min(axis=0)
    bottom, right = framed.max(axis=0)
    assert (top, left) == (9, 14)
    assert (bottom, right) == (21, 26)
    assert preview_levels(pixels, None, 40, 15).max() < LEVELS
    strips = level_strips(levels, 50, Style())
    assert len(strips) == 15
    assert all(strip.cell_length == 50 for strip in strips)


def test_the_camera_config(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(
        '[camera]\nsource = "media/desk.avi"\ndecoders = ["zxing"]\npreview_fps = 4\n'
    )
    settings = load_settings(config)
    # A file is read from the config's directory, wherever the kiosk was started.
    assert settings.camera == CameraSettings(
        source=str(tmp_path / "media" / "desk.avi"), decoders=("zxing",), preview_fps=4.0
    )
    config.write_text("[camera]\nsource = 2\n")
    assert load_settings(config).camera.source == "2"
    config.write_text('[camera]\nsource = "/dev/video1"\n')
    assert load_settings(config).camera.source == "/dev/video1"
    for bad in ('decoders = ["zxing", "tesseract"]', "preview_fps = 0", "lens = 3", "source = -1"):
        config.write_text(f"[camera]\n{bad}\n")
        with pytest.raises(SettingsError, match="camera"):
            load_settings(config)
