"""Start-up benchmark: time until the welcome screen is drawn, and resident memory, for the kiosk
and for a minimal Textual app that shows one label, side by side in one run.

Each app runs in a fresh interpreter on a real pseudo-terminal (100×30), so Textual's real driver
draws. "Usable" is the moment the kiosk's embedded service has answered and Start works (the app's
`connection` is `ready`), read by the app's auto-pilot on the same clock; of it, the time until the
service's process said it serves (`EmbeddedService.ready_after`), the rest being the kiosk's own
connection (its client, the first request). "Drawn" is the moment
this process reads the screen's title in what the app wrote to the
terminal, as a person would see it; the resident memory of the app is read at that moment from
/proc. An auto-pilot in the app then records which heavy modules were already imported (the
service, OpenCV, the scanner must not be), waits 3 s for the embedded service to finish starting,
and reports the memory again.

    uv run python bench/startup.py [--runs 11]
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

HEAVY = ("kiosk_server.app", "cv2", "kiosk.scanner", "fastapi", "sqlalchemy", "httpx", "pydantic",
         "babel", "numpy", "uvicorn")
before_draw = []

async def auto_pilot(pilot):
    await pilot.pause()
    usable_at = None
    service_ready = None
    if KIND == "kiosk":
        # Usable: the service answered and "Start" works (the welcome screen says so).
        waited = time.time()
        while pilot.app.connection != "ready" and time.time() - waited < 30:
            await pilot.pause(0.005)
        usable_at = time.time() if pilot.app.connection == "ready" else None
        if embedded.ready_after is not None:
            service_ready = started_wall + embedded.ready_after
    await pilot.pause(3.0)  # let the embedded service finish starting, as a person would wait
    with open(OUT, "w") as f:
        json.dump({"rss_settled": rss_mib(), "heavy": before_draw, "usable_at": usable_at,
                   "service_ready": service_ready}, f)
    pilot.app.exit()

if KIND == "minimal":
    from textual.app import App, ComposeResult
    from textual.widgets import Label

    class Minimal(App[None]):
        def compose(self) -> ComposeResult:
            yield Label("Badge kiosk")

    app = Minimal()
else:
    from kiosk.settings import load_settings
    settings = load_settings(overrides={"language": "en"})
    # As `kiosk` starts (kiosk.cli): the demo service's process first, then the app's import.
    from kiosk.embedded import start_demo_service
    embedded = start_demo_service(settings)
    started_wall = time.time()
    from kiosk.app import KioskApp, create_app

    mounted = KioskApp.on_mount

    def on_mount(self):
        # Mounted, not yet drawn: what is imported now was imported before the first frame.
        before_draw.extend(sorted(m for m in HEAVY if m in sys.modules))
        mounted(self)

    KioskApp.on_mount = on_mount  # (a subclass would move where CSS_PATH is resolved from)
    app = create_app(settings, embedded=embedded)
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
    start = time.perf_counter()
    start_wall = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, out_path, kind],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    seen = b""
    drawn: float | None = None
    rss_drawn = 0.0
    # Read the terminal output (also so that the child never blocks on a full pty).
    while proc.poll() is None:
        ready, _, _ = select.select([master], [], [], 0.005)
        if not ready:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if drawn is None:
            seen += chunk
            if MARKER in seen:
                drawn = time.perf_counter()
                rss_drawn = rss_of(proc.pid)
    os.close(master)
    result = json.loads(Path(out_path).read_text())
    os.unlink(out_path)
    assert drawn is not None, "the title never reached the terminal"
    result["seconds"] = drawn - start
    result["rss_drawn"] = rss_drawn
    usable_at = result.pop("usable_at", None)
    if usable_at is not None:
        result["usable"] = usable_at - start_wall
    service_ready = result.pop("service_ready", None)
    if service_ready is not None:
        result["service_ready"] = service_ready - start_wall
    return result


MARKER = b"Badge kiosk"
"""The title both apps show (the kiosk in English)."""


def rss_of(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    # 11 (alternating, one app then the other): with 7 the ratio's median moved between 1.07
    # and 1.43 within an hour on a 2-core virtual machine.
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument(
        "--as-checked-out",
        action="store_true",
        help="do not compile the project's bytecode first (as docs/deploy.md installs it)",
    )
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    if not args.as_checked_out:
        # As installed (docs/deploy.md): the libraries' bytecode by `uv sync` (compile-bytecode),
        # the project's by compileall. Without it, a machine that cannot write __pycache__ (a
        # root-owned install, PYTHONDONTWRITEBYTECODE) compiles every module at every start.
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", "kiosk", "kiosk_server"],
            cwd=root,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    print(
        "bytecode: "
        + ("as checked out" if args.as_checked_out else "the project's compiled first")
        + (", PYTHONDONTWRITEBYTECODE set" if sys.flags.dont_write_bytecode else "")
    )
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
            f"   RSS when drawn {statistics.median(rss):5.1f} MiB"
            f"   RSS 3 s later {statistics.median(settled):5.1f} MiB"
        )
    print(f"  ratio kiosk/minimal: {med['kiosk'] / med['minimal']:.2f} (target ≤ 1.30)")
    usable = [float(r["usable"]) for r in figures["kiosk"] if "usable" in r]  # type: ignore[arg-type]
    if usable:
        print(
            f"  kiosk usable (the embedded service answered, Start works): "
            f"{statistics.median(usable) * 1000:.0f} ms ({min(usable) * 1000:.0f}–"
            f"{max(usable) * 1000:.0f}), {statistics.median(usable) / med['minimal']:.2f}× the "
            "minimal app's first paint (target: usable ≤ 1.5 s)"
        )
    ready = [float(r["service_ready"]) for r in figures["kiosk"] if r.get("service_ready")]  # type: ignore[arg-type]
    if ready and usable:
        print(
            f"    of which until the service serves: {statistics.median(ready) * 1000:.0f} ms "
            f"({min(ready) * 1000:.0f}–{max(ready) * 1000:.0f}); the kiosk's connection after it: "
            f"{(statistics.median(usable) - statistics.median(ready)) * 1000:.0f} ms (medians' difference)"
        )
    heavy = figures["kiosk"][-1]["heavy"]
    print(f"  heavy modules imported before the welcome screen was drawn: {heavy or 'none'}")


if __name__ == "__main__":
    main()
