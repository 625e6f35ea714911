"""The embedded demo service: the real `kiosk_server` app, served by uvicorn on 127.0.0.1 in a
background thread with its own event loop, so that the service's work never runs on the UI loop.

The terminal talks to it over HTTP with the same `KioskClient` as to a remote server. Every
`kiosk_server` import happens inside the thread, after the welcome screen is drawn.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uvicorn

logger = logging.getLogger(__name__)

# The same file names as `kiosk_server.paths` uses in its data directory, so that
# `kiosk-server` with no database URL serves the very database the terminal created.
DATABASE_FILE = "demo.sqlite3"
DEVICE_KEY_FILE = "demo-device.key"

_POLL_SECONDS = 0.02
_STOP_SECONDS = 10.0


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (as uvicorn picks for `kiosk-server`): each
    request crosses the loop several times (the socket, aiosqlite's thread), and uvloop does
    that with a fraction of asyncio's overhead."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


class EmbeddedServiceError(RuntimeError):
    """The embedded service could not start (the UI shows a calm message; the log says why)."""


@dataclass(frozen=True, slots=True)
class EmbeddedEndpoint:
    """Where the embedded service answers, and the demo terminal's device key."""

    base_url: str
    device_key: str = field(repr=False)


class EmbeddedService:
    """Starts and stops the embedded demo service. One `start` per instance."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._server: uvicorn.Server | None = None
        self._socket: socket.socket | None = None
        self._port: int | None = None
        self._endpoint: EmbeddedEndpoint | None = None
        self._settled = threading.Event()
        self._stopping = threading.Event()
        self.error: BaseException | None = None
        """Why the service did not start (None while starting, once started, or never started)."""

    @property
    def running(self) -> bool:
        """True while the service thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, data_dir: Path) -> None:
        """Start the service on a SQLite file in `data_dir`, in the background: migrations and
        the demo seed first, then uvicorn. Returns at once; see `wait_ready`."""
        if self._thread is not None:
            raise RuntimeError("the embedded service was already started")
        # Bound here, before the thread starts, so that the port is ours from now on: no other
        # process can take it between choosing it and serving on it.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._socket = sock
        self._port = int(sock.getsockname()[1])
        self._thread = threading.Thread(
            target=self._run, args=(data_dir,), name="kiosk-embedded-service", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int | None:
        """The loopback port the service listens on (None before `start`)."""
        return self._port

    def wait_ready(self, timeout: float = 30.0) -> EmbeddedEndpoint:
        """Block until the service answers, then return where. Raises `EmbeddedServiceError`
        when it failed to start and `TimeoutError` when it is not ready in time."""
        if self._thread is None:
            raise RuntimeError("the embedded service was not started")
        if not self._settled.wait(timeout):
            raise TimeoutError(f"the embedded service was not ready within {timeout} s")
        return self._outcome()

    async def wait_ready_async(self, timeout: float = 30.0) -> EmbeddedEndpoint:
        """`wait_ready` for an event loop: polls without blocking it (and can be cancelled)."""
        if self._thread is None:
            raise RuntimeError("the embedded service was not started")
        deadline = time.monotonic() + timeout
        while not self._settled.is_set():
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the embedded service was not ready within {timeout} s")
            await asyncio.sleep(_POLL_SECONDS)
        return self._outcome()

    def stop(self, timeout: float = _STOP_SECONDS) -> None:
        """Ask the service to finish its requests and exit, then join its thread."""
        self._stopping.set()
        server = self._server
        if server is not None:
            server.should_exit = True
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                logger.warning("the embedded service did not stop within %s s", timeout)
                return
        self._close_socket()

    # Inside the thread -----------------------------------------------------------------------

    def _outcome(self) -> EmbeddedEndpoint:
        if self._endpoint is not None:
            return self._endpoint
        raise EmbeddedServiceError("the embedded service did not start") from self.error

    def _run(self, data_dir: Path) -> None:
        try:
            self._serve(data_dir)
        except BaseException as exc:
            # uvicorn exits with SystemExit when the app's lifespan start-up fails; keep any
            # failure for the UI instead of letting it end the thread silently.
            self.error = exc
            logger.error("the embedded service failed: %s", type(exc).__name__, exc_info=exc)
        else:
            if self._endpoint is None and not self._stopping.is_set():
                self.error = EmbeddedServiceError("the embedded service stopped before it started")
        finally:
            self._settled.set()
            self._close_socket()

    def _serve(self, data_dir: Path) -> None:
        import uvicorn

        from kiosk_server.app import create_app
        from kiosk_server.demo import ensure_demo
        from kiosk_server.settings import ServerSettings

        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        url = f"sqlite:///{data_dir / DATABASE_FILE}"
        # Migrations and seeding run before this thread has an event loop (ensure_demo runs
        # its own), and before the server takes requests.
        device_key = ensure_demo(url, key_path=data_dir / DEVICE_KEY_FILE)
        if self._stopping.is_set():
            return
        from kiosk_server.http_protocol import best_protocol

        config = uvicorn.Config(
            app=create_app(ServerSettings(database_url=url)),
            host="127.0.0.1",
            port=self.port or 0,
            log_level="warning",
            # The app configures logging (to its log file); uvicorn's own config would add
            # handlers writing to stderr, over the terminal's screen.
            log_config=None,
            access_log=False,
            lifespan="on",
            http=best_protocol(),
        )
        server = uvicorn.Server(config)
        self._server = server
        sock = self._socket
        if sock is None:
            raise RuntimeError("no socket: start() binds one before the thread runs")
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(self._serve_until_stopped(server, sock, device_key))

    async def _serve_until_stopped(
        self, server: uvicorn.Server, sock: socket.socket, device_key: str
    ) -> None:
        # uvicorn installs no signal handlers outside the main thread, so the app's own
        # handling of ctrl+c stays as it is.
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not serving.done():
            if self._stopping.is_set():
                server.should_exit = True
            await asyncio.sleep(_POLL_SECONDS)
        if self._stopping.is_set():
            server.should_exit = True
        if server.started:
            self._endpoint = EmbeddedEndpoint(
                base_url=f"http://127.0.0.1:{self.port}", device_key=device_key
            )
            self._settled.set()
        await serving

    def _close_socket(self) -> None:
        sock = self._socket
        if sock is not None and sock.fileno() != -1:
            sock.close()
