"""The `kiosk` command as a person or a service manager starts it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.processes import environment_without, run_command


def test_without_a_terminal_the_kiosk_says_so_and_exits_instead_of_waiting() -> None:
    done = run_command(["kiosk.cli"], environment_without("TEXTUAL_DRIVER"))
    assert done.returncode == 2
    assert "needs a terminal" in done.stderr
    assert done.stdout == ""


def test_a_server_without_a_device_key_says_how_to_give_one(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text("", encoding="utf-8")
    done = run_command(
        ["kiosk.cli", "--config", str(config), "--server", "http://10.0.0.9:8000"],
        environment_without("KIOSK_DEVICE_KEY"),
    )
    assert done.returncode == 2
    assert "KIOSK_DEVICE_KEY" in done.stderr and "terminals enrol" in done.stderr


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return run_command(["kiosk", *args], environment_without("KIOSK_DEVICE_KEY"))


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
