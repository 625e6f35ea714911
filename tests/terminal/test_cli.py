"""The `kiosk` command as a person or a service manager starts it."""

from __future__ import annotations

import subprocess
import sys
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


_STARTS_DEMO = """
import sys

from kiosk import cli, embedded


def start(settings):
    print(sorted(name for name in ("kiosk.app", "textual") if name in sys.modules))
    print(settings.resolved_data_dir())
    raise SystemExit(0)


embedded.start_demo_service = start
cli._no_terminal = lambda: False
cli.main([])
"""


def test_the_demo_service_starts_before_the_app_and_textual_are_imported(tmp_path: Path) -> None:
    """Its process then imports the service (about a second) on the other core while this one
    imports Textual and draws the welcome screen (bench/startup.py)."""
    done = subprocess.run(  # noqa: S603 - our own interpreter, a fixed script
        [sys.executable, "-c", _STARTS_DEMO],
        env=environment_without("KIOSK_SERVER_URL", KIOSK_DATA_DIR=str(tmp_path)),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", str(tmp_path)]
