"""`kiosk serve`: the kiosk in a browser. The real command serves the embedded demo on a loopback
port; Debian's chromium, headless, driven by Playwright, opens it as a person would, signs in
with the keyboard and reads the screen.

The page draws the terminal on a canvas (xterm.js), so the text is read from xterm's buffer: a
script run before the page's own keeps a reference to the terminal when textual-serve's code
hands it to its fit add-on (`_terminal`), the one place it becomes reachable.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import free_port, group_members, stop_group

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (.ci/apt-packages installs it)"
)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]

KEEP_TERMINAL = """
Object.defineProperty(Object.prototype, '_terminal', {
  configurable: true,
  get() { return undefined; },
  set(value) {
    Object.defineProperty(this, '_terminal', {value, writable: true, configurable: true});
    if (!window.__xterm && value && typeof value.loadAddon === 'function') window.__xterm = value;
  },
});
"""

READ_SCREEN = """() => {
  const terminal = window.__xterm;
  if (!terminal) return '';
  const buffer = terminal.buffer.active, lines = [];
  for (let y = 0; y < terminal.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    lines.push(line ? line.translateToString(true) : '');
  }
  return lines.join('\\n');
}"""

WAIT_SECONDS = 60.0
"""How long a screen may take to appear (the first one waits for the demo service to start)."""

CONFIG = """\
language = "fr"

[idle]
default_seconds = 3
countdown_seconds = 20
typing_seconds = 120
"""
"""Home asks "still there?" after 3 s, so that the test sees the idle time-out in the browser."""


def kiosk_processes(group: int) -> list[int]:
    """The kiosk processes `kiosk serve` started for browser tabs (one per tab)."""
    found = []
    for pid in group_members(group):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"kiosk" in command and b"serve" not in command and b"-c" not in command:
            found.append(pid)
    return found


def wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {WAIT_SECONDS} s")
        time.sleep(0.1)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`kiosk serve` on the embedded demo, on a free loopback port."""
    config = tmp_path / "kiosk.toml"
    # data_dir is a top-level key: before the [idle] table.
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n' + CONFIG)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "kiosk", "--config", str(config), "serve", "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: process.poll() is not None or _listening(port), "kiosk serve listening")
        assert process.poll() is None, log.read_text()
        yield f"http://127.0.0.1:{port}/", process
    finally:
        stop_group(process)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Screen:
    """The kiosk's screen in a browser page, as text."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def text(self) -> str:
        shown: str = self.page.evaluate(READ_SCREEN)
        # Amounts are written with a no-break space; words are compared with one space.
        return " ".join(shown.replace("\xa0", " ").split())

    def wait_for(self, words: str) -> str:
        deadline = time.monotonic() + WAIT_SECONDS
        while words not in (shown := self.text()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{words!r} not on the screen:\n{shown}")
            time.sleep(0.1)
        return shown

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.page.keyboard.press("Enter")


def test_the_demo_in_a_browser_signs_in_and_is_wiped_when_idle(
    served: tuple[str, subprocess.Popen[bytes]], browser: Any
) -> None:
    url, server = served
    page = browser.new_page(viewport={"width": 1000, "height": 620})
    page.add_init_script(KEEP_TERMINAL)
    # The page links a web font; this machine may have no network (a system font is used).
    page.route("**/fonts.googleapis.com/**", lambda route: route.abort())
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_function("() => !!window.__xterm", timeout=WAIT_SECONDS * 1000)
    page.click(".xterm-screen")  # the keyboard goes to the terminal
    screen = Screen(page)

    screen.wait_for("Touchez l'écran ou appuyez sur Entrée pour commencer")
    assert len(kiosk_processes(server.pid)) == 1
    page.keyboard.press("Enter")
    screen.wait_for("Saisissez le code de votre solution")
    screen.type("DEMO")
    screen.wait_for("Saisissez votre identifiant")
    screen.type("2001")
    screen.wait_for("Saisissez votre code PIN")
    screen.type("135790")
    home = screen.wait_for("Votre solde")
    assert "Bonjour Denise Moreau" in home
    assert "Votre solde 40,00 €" in home

    # Left alone, home asks "still there?" as in a terminal, counts down (20 s, the shortest a
    # terminal may set), then wipes the session back to a fresh welcome screen.
    screen.wait_for("Toujours là ?")
    welcome = screen.wait_for("appuyez sur Entrée pour commencer")
    assert "Denise" not in welcome and "40,00" not in welcome
    assert len(kiosk_processes(server.pid)) == 1  # the same tab's kiosk, ready for the next

    # Closing the tab ends that kiosk, and the session with it.
    page.close()
    wait_for(lambda: not kiosk_processes(server.pid), "the tab's kiosk process exits")
