"""The `kiosk` command as a person or a service manager starts it."""

from __future__ import annotations

import os
import subprocess
import sys

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
