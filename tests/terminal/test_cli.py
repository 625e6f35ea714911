"""The `kiosk` command as a person or a service manager starts it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.processes import COMMAND_SECONDS


def test_without_a_terminal_the_kiosk_says_so_and_exits_instead_of_waiting() -> None:
    env = {name: value for name, value in os.environ.items() if name != "TEXTUAL_DRIVER"}
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert "needs a terminal" in done.stderr
    assert done.stdout == ""


def test_a_server_without_a_device_key_says_how_to_give_one(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text("", encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if name != "KIOSK_DEVICE_KEY"}
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "kiosk.cli",
            "--config",
            str(config),
            "--server",
            "http://10.0.0.9:8000",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert "KIOSK_DEVICE_KEY" in done.stderr and "terminals enrol" in done.stderr


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name != "KIOSK_DEVICE_KEY"}
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "kiosk", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
        env=env,
        check=False,
    )


def test_serve_on_every_address_needs_the_address_people_type() -> None:
    done = _serve("serve", "--host", "0.0.0.0")  # noqa: S104 - what is refused

    assert done.returncode == 2
    assert "--public-url" in done.stderr


def test_serve_for_a_remote_service_needs_the_device_key(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text("", encoding="utf-8")

    done = _serve("--config", str(config), "--server", "http://10.0.0.9:8000", "serve")

    assert done.returncode == 2
    assert "KIOSK_DEVICE_KEY" in done.stderr
