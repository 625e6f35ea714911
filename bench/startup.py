"""Start-up benchmark: time until the welcome screen is drawn, and resident memory, for the kiosk
and for a minimal Textual app that shows one label, side by side in one run.

Each app runs in a fresh interpreter on a real pseudo-terminal (100×30), so Textual's real driver
draws. An auto-pilot records the moment the first screen has been drawn (after `pilot.pause()`,
which waits for the refresh), writes the elapsed time since the process was spawned and the
resident memory, and exits. Also reported: which heavy modules were already imported at that
moment (the service, OpenCV, the scanner must not be).

    uv run python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import os, sys, time, json
OUT = sys.argv[1]
KIND = sys.argv[2]

def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

async def auto_pilot(pilot):
    await pilot.pause()
    drawn = time.time()
    heavy = sorted(m for m in ("kiosk_server", "cv2", "kiosk.scanner", "fastapi", "sqlalchemy",
                               "httpx", "pydantic", "babel", "numpy") if m in sys.modules)
    rss_drawn = rss_mib()
    await pilot.pause(3.0)  # let the embedded service finish starting, as a person would wait
    with open(OUT, "w") as f:
        json.dump({"drawn": drawn, "rss_drawn": rss_drawn, "rss_settled": rss_mib(),
                   "heavy": heavy}, f)
    pilot.app.exit()

if KIND == "minimal":
    from textual.app import App, ComposeResult
    from textual.widgets import Label

    class Minimal(App[None]):
        def compose(self) -> ComposeResult:
            yield Label("Hello")

    app = Minimal()
else:
    from kiosk.settings import load_settings
    from kiosk.app import create_app

    app = create_app(load_settings())
app.run(auto_pilot=auto_pilot)
"""


def run_once(kind: str, data_dir: Path) -> dict[str, float | list[str]]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        out_path = out.name
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    import fcntl
    import struct
    import termios

    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = dict(
        os.environ, TERM="xterm-256color", KIOSK_DATA_DIR=str(data_dir), COLUMNS="100", LINES="30"
    )
    start = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, out_path, kind],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    # Drain the terminal output so the child never blocks on a full pty.
    while proc.poll() is None:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                os.read(master, 65536)
            except OSError:
                break
    os.close(master)
    result = json.loads(Path(out_path).read_text())
    os.unlink(out_path)
    result["seconds"] = result.pop("drawn") - start
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    figures: dict[str, list[dict[str, float | list[str]]]] = {"minimal": [], "kiosk": []}
    with tempfile.TemporaryDirectory() as data:
        run_once("kiosk", Path(data))  # first run seeds the demo database; not counted
        for _ in range(args.runs):
            for kind in ("minimal", "kiosk"):
                figures[kind].append(run_once(kind, Path(data)))
    print(f"start-up until the first screen is drawn, {args.runs} runs each, median (min–max)")
    med: dict[str, float] = {}
    for kind, runs in figures.items():
        secs = [float(r["seconds"]) for r in runs]  # type: ignore[arg-type]
        rss = [float(r["rss_drawn"]) for r in runs]  # type: ignore[arg-type]
        settled = [float(r["rss_settled"]) for r in runs]  # type: ignore[arg-type]
        med[kind] = statistics.median(secs)
        print(
            f"  {kind:8s} {med[kind] * 1000:7.0f} ms ({min(secs) * 1000:.0f}–{max(secs) * 1000:.0f})"
            f"   RSS at draw {statistics.median(rss):5.1f} MiB"
            f"   RSS 3 s later {statistics.median(settled):5.1f} MiB"
        )
    print(f"  ratio kiosk/minimal: {med['kiosk'] / med['minimal']:.2f} (target ≤ 1.30)")
    heavy = figures["kiosk"][-1]["heavy"]
    print(f"  heavy modules loaded when the welcome screen was drawn: {heavy or 'none'}")


if __name__ == "__main__":
    main()
