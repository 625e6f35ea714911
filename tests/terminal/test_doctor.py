"""`kiosk doctor`: the terminal's configuration, service, clock, camera and printer, checked and
told in words. The real command, on the embedded demo, with the camera an image file."""

from __future__ import annotations

import subprocess
from email.utils import formatdate
from pathlib import Path

from kiosk.doctor import _skew
from tests.processes import environment_without, free_port, run_command

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "scanner"


def doctor(config: Path, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    extra = {"KIOSK_DEVICE_KEY": key} if key is not None else {}
    return run_command(
        ["kiosk", "--config", str(config), *args, "doctor"],
        environment_without("KIOSK_DEVICE_KEY", **extra),
    )


def test_on_the_demo_with_a_camera_and_a_printer_nothing_is_wrong(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f'[camera]\nsource = "{FIXTURES / "clean.png"}"\n'
        f'[printer]\nkind = "file"\npath = "{tmp_path / "printer.bin"}"\n',
        encoding="utf-8",
    )

    done = doctor(config)

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "Nothing wrong found."
    assert all(line.startswith("ok ") for line in lines[:-1])
    assert any("the service knows this terminal; it serves: DEMO, NORD" in line for line in lines)
    assert any("clock agrees" in line for line in lines)
    assert any("clean.png gives images" in line for line in lines)
    # The demo's device key is never printed.
    key = (tmp_path / "data" / "demo-device.key").read_text().strip()
    assert key and key not in done.stdout + done.stderr


def test_each_problem_is_told_in_words(tmp_path: Path) -> None:
    closed = free_port()
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[camera]\nsource = "{tmp_path / "no-camera.png"}"\n'
        f'[printer]\nkind = "network"\nhost = "127.0.0.1"\nport = {closed}\n'
        "timeout_seconds = 1.0\n",
        encoding="utf-8",
    )

    done = doctor(config, "--server", f"http://127.0.0.1:{free_port()}", key="a-secret-key")

    assert done.returncode == 1
    bad = [line for line in done.stdout.splitlines() if line.startswith("BAD")]
    assert len(bad) == 3, done.stdout
    assert "cannot be reached" in bad[0]
    assert "no-camera.png gives no image" in bad[1]
    assert f"the printer 127.0.0.1:{closed} cannot be reached" in bad[2]
    assert done.stdout.splitlines()[-1] == "3 problem(s) found."
    assert "a-secret-key" not in done.stdout + done.stderr


def test_a_clock_away_from_the_services_is_reported_with_its_direction() -> None:
    service = 1_800_000_000.0

    assert _skew(formatdate(service, usegmt=True), service + 2).ok
    ahead = _skew(formatdate(service, usegmt=True), service + 40)
    behind = _skew(formatdate(service, usegmt=True), service - 95)

    assert not ahead.ok and "40 s ahead of the service's" in ahead.text
    assert not behind.ok and "95 s behind the service's" in behind.text
    assert not _skew(None, service).ok
