"""`kiosk serve`: the same kiosk app in a browser, through textual-serve (Textualize's bridge).

Each browser tab gets a kiosk process of its own, started with Textual's web driver; closing the
tab ends that process, and with it the person's session. Idle time-outs and the wipe are the
app's own, so they hold in a browser exactly as in a terminal.

On the embedded demo, this process starts the demo service once and every tab's kiosk talks to
it (rather than each starting its own on the same SQLite file). It listens on 127.0.0.1 unless
told otherwise: there is no TLS and no login in front of the kiosk's own (README, "The kiosk in a
browser").
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, web
from textual_serve.server import Server

if TYPE_CHECKING:
    from textual_serve.app_service import AppService

    from kiosk.settings import KioskSettings

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_MAX_SESSIONS = 8
"""Browser tabs served at once: each is a kiosk process (about 60 MB)."""


class KioskWebServer(Server):
    """textual-serve's server, with three changes for a kiosk: at most `max_sessions` tabs at
    once, open tabs closed at shutdown (their kiosks then quit at once instead of after aiohttp's
    grace period), and a log without local variables in tracebacks."""

    def __init__(self, command: str, *, max_sessions: int, **options: Any) -> None:
        super().__init__(command, title="Badge kiosk", **options)
        self.max_sessions = max_sessions
        self._sockets: set[web.WebSocketResponse] = set()

    def initialize_logging(self) -> None:
        # textual-serve's own logging shows local variables in tracebacks: a person's data.
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    async def on_startup(self, app: web.Application) -> None:
        print(f"kiosk serve: the kiosk is at {self.public_url}/ (ctrl+c stops)", flush=True)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if len(self._sockets) >= self.max_sessions:
            logger.warning("kiosk serve: %d sessions open, a new tab refused", self.max_sessions)
            raise web.HTTPServiceUnavailable(text="Too many kiosk sessions open; try later.")
        return await super().handle_websocket(request)

    async def _process_messages(
        self, websocket: web.WebSocketResponse, app_service: AppService
    ) -> None:
        self._sockets.add(websocket)
        try:
            await super()._process_messages(websocket, app_service)
        finally:
            self._sockets.discard(websocket)

    async def on_shutdown(self, app: web.Application) -> None:
        # Closing a tab's socket ends _process_messages: textual-serve then tells its kiosk to
        # quit and waits for it.
        for websocket in list(self._sockets):
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")


def kiosk_command(
    *, server_url: str | None, config: Path | None, language: str | None
) -> list[str]:
    """The command each tab runs: this Python's kiosk, with the options `kiosk serve` got."""
    command = [sys.executable, "-m", "kiosk"]
    if server_url is not None:
        command += ["--server", server_url]
    if config is not None:
        command += ["--config", str(config)]
    if language is not None:
        command += ["--lang", language]
    return command


def serve(
    settings: KioskSettings,
    *,
    config: Path | None,
    language: str | None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    public_url: str | None = None,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
) -> int:
    """Serve the kiosk to browsers until interrupted (SIGINT or SIGTERM). Returns the exit
    status."""
    embedded = None
    server_url = settings.server_url
    if settings.embedded:
        from kiosk.embedded import EmbeddedService

        embedded = EmbeddedService()
        embedded.start(settings.resolved_data_dir())
        endpoint = embedded.wait_ready(timeout=60.0)
        server_url = endpoint.base_url
        # Each tab's kiosk inherits this process's environment: the demo terminal's key.
        os.environ["KIOSK_DEVICE_KEY"] = endpoint.device_key
    command = kiosk_command(server_url=server_url, config=config, language=language)
    try:
        KioskWebServer(
            shlex.join(command),
            host=host,
            port=port,
            public_url=public_url,
            max_sessions=max_sessions,
        ).serve()
    finally:
        if embedded is not None:
            embedded.stop()
    return 0
