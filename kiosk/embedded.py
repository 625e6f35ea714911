"""The embedded demo service: the real `kiosk_server` app, served by uvicorn on 127.0.0.1 in a
process of its own, so that the service's work never runs on the UI loop, and so that importing
it (about a second: FastAPI's routes, pydantic's schemas, SQLAlchemy) runs on another core while
the kiosk draws its welcome screen and imports its client.

The terminal talks to it over HTTP with the same `KioskClient` as to a remote server. The kiosk
binds the loopback port itself and hands the socket to the child, so that no other process can
take the port between choosing it and serving on it. The child says on its standard output when
it serves (with the demo terminal's device key) or why it failed, and stops when its standard
input closes: when the kiosk stops it, and when the kiosk dies, whatever the way.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import gc
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    import uvicorn

    from kiosk.settings import KioskSettings

logger = logging.getLogger(__name__)

# The same file names as `kiosk_server.paths` uses in its data directory, so that
# `kiosk-server` with no database URL serves the very database the terminal created.
DATABASE_FILE = "demo.sqlite3"
DEVICE_KEY_FILE = "demo-device.key"

_POLL_SECONDS = 0.005
"""How often the kiosk looks whether the service is ready, and the service whether uvicorn
serves: each look costs microseconds, each period's half is added to the kiosk's start."""
_STOP_SECONDS = 10.0

_READY = "ready"
_FAILED = "failed"


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
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._port: int | None = None
        self._endpoint: EmbeddedEndpoint | None = None
        self._settled = threading.Event()
        self._stopping = threading.Event()
        self.error: BaseException | None = None
        """Why the service did not start (None while starting, once started, or never started)."""
        self.ready_after: float | None = None
        """Seconds from `start` until the service said it serves (None until then)."""
        self._started_at = 0.0

    @property
    def running(self) -> bool:
        """True while the service's process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self, data_dir: Path, *, log_file: Path | None = None) -> None:
        """Start the service on a SQLite file in `data_dir`, in the background: migrations and
        the demo seed first, then uvicorn. Returns at once; see `wait_ready`. What the service
        logs goes to `log_file` (appended), else nowhere: never over the kiosk's screen."""
        if self._process is not None:
            raise RuntimeError("the embedded service was already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._socket = sock
        self._port = int(sock.getsockname()[1])
        self._started_at = time.monotonic()
        errors: IO[str] | int = subprocess.DEVNULL
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            errors = log_file.open("a", encoding="utf-8")
        try:
            self._process = subprocess.Popen(  # noqa: S603 - this Python, this module
                [sys.executable, "-m", "kiosk.embedded", str(data_dir), str(sock.fileno())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                pass_fds=(sock.fileno(),),
                text=True,
                encoding="utf-8",
            )
        finally:
            if not isinstance(errors, int):
                errors.close()
        self._reader = threading.Thread(
            target=self._read, name="kiosk-embedded-service", daemon=True
        )
        self._reader.start()

    @property
    def port(self) -> int | None:
        """The loopback port the service listens on (None before `start`)."""
        return self._port

    def wait_ready(self, timeout: float = 30.0) -> EmbeddedEndpoint:
        """Block until the service answers, then return where. Raises `EmbeddedServiceError`
        when it failed to start and `TimeoutError` when it is not ready in time."""
        if self._process is None:
            raise RuntimeError("the embedded service was not started")
        if not self._settled.wait(timeout):
            raise TimeoutError(f"the embedded service was not ready within {timeout} s")
        return self._outcome()

    async def wait_ready_async(self, timeout: float = 30.0) -> EmbeddedEndpoint:
        """`wait_ready` for an event loop: polls without blocking it (and can be cancelled)."""
        if self._process is None:
            raise RuntimeError("the embedded service was not started")
        deadline = time.monotonic() + timeout
        while not self._settled.is_set():
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the embedded service was not ready within {timeout} s")
            await asyncio.sleep(_POLL_SECONDS)
        return self._outcome()

    def stop(self, timeout: float = _STOP_SECONDS) -> None:
        """Ask the service to finish its requests and exit (its standard input closes), then
        wait for it; a service that lingers is terminated, then killed."""
        self._stopping.set()
        process = self._process
        if process is not None:
            if process.stdin is not None and not process.stdin.closed:
                with contextlib.suppress(OSError):  # already gone
                    process.stdin.close()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.warning("the embedded service did not stop within %s s", timeout)
                process.terminate()
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout)
        self._close_socket()

    # The kiosk's side -------------------------------------------------------------------------

    def _outcome(self) -> EmbeddedEndpoint:
        if self._endpoint is not None:
            return self._endpoint
        raise EmbeddedServiceError("the embedded service did not start") from self.error

    def _read(self) -> None:
        """What the child says: ready (and the device key), or why it failed."""
        process = self._process
        if process is None or process.stdout is None:
            return
        try:
            for line in process.stdout:
                word, _, rest = line.rstrip("\n").partition(" ")
                if word == _READY and self._port is not None:
                    self.ready_after = time.monotonic() - self._started_at
                    logger.info("the embedded service serves after %.2f s", self.ready_after)
                    self._endpoint = EmbeddedEndpoint(
                        base_url=f"http://127.0.0.1:{self._port}", device_key=rest
                    )
                    # The child holds the socket now; the kiosk's copy is not needed.
                    self._close_socket()
                    self._settled.set()
                elif word == _FAILED:
                    self.error = _rebuilt_error(rest)
                    logger.error("the embedded service failed: %s", rest)
        finally:
            if self._endpoint is None and self.error is None and not self._stopping.is_set():
                self.error = EmbeddedServiceError("the embedded service stopped before it started")
            self._settled.set()

    def _close_socket(self) -> None:
        sock = self._socket
        if sock is not None and sock.fileno() != -1:
            sock.close()


def start_demo_service(settings: KioskSettings) -> EmbeddedService:
    """The demo service of a kiosk with no server URL, started in its data directory (what it
    logs goes to the kiosk's log file). Raises `OSError` when it cannot start (a log file it
    cannot open)."""
    service = EmbeddedService()
    service.start(settings.resolved_data_dir(), log_file=settings.log_file)
    return service


def _rebuilt_error(text: str) -> BaseException:
    """The child's error as an exception of the same built-in kind where there is one (an
    OSError stays an OSError), else an EmbeddedServiceError with its words."""
    name, _, message = text.partition(": ")
    kind = getattr(builtins, name, None)
    if isinstance(kind, type) and issubclass(kind, Exception):
        with contextlib.suppress(Exception):  # a kind that wants other arguments
            rebuilt: BaseException = kind(message)
            return rebuilt
    return EmbeddedServiceError(text)


# The service's side (python -m kiosk.embedded DATA_DIR FD) --------------------------------------


def _say(word: str, rest: str) -> None:
    print(word, rest, flush=True)


def serve_in_child(data_dir: Path, fd: int) -> int:
    """Migrate and seed the demo database, then serve on the socket `fd` until the standard
    input closes."""
    sock = socket.socket(fileno=fd)
    # No garbage collection while the service starts: its imports alone made 300 collections,
    # 140 ms of a second, each walking more of what stays alive anyway. Once the app is built,
    # all that is alive is frozen out of the collector's sight and collecting resumes (the
    # app's `freeze_gc` then freezes what its own start adds: the engine, its pool). The
    # garbage frozen with it (about 1,200 objects on a seeded database, 16,000 when it seeds a
    # new one) is kept for the life of the process: at most a few megabytes, once.
    gc.disable()
    try:
        import uvicorn

        from kiosk_server.app import create_app
        from kiosk_server.demo import ensure_demo
        from kiosk_server.http_protocol import best_protocol
        from kiosk_server.settings import ServerSettings

        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        url = f"sqlite:///{data_dir / DATABASE_FILE}"
        device_key = ensure_demo(url, key_path=data_dir / DEVICE_KEY_FILE)
        app = create_app(ServerSettings(database_url=url), freeze_gc=True)
        gc.freeze()
        gc.enable()
        config = uvicorn.Config(
            app=app,
            host="127.0.0.1",
            port=int(sock.getsockname()[1]),
            log_level="warning",
            log_config=None,
            access_log=False,
            lifespan="on",
            http=best_protocol(),
        )
        server = uvicorn.Server(config)
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(_serve_until_stdin_closes(server, sock, device_key))
    except BaseException as error:  # noqa: BLE001 - said to the kiosk, which shows a calm message
        _say(_FAILED, f"{type(error).__name__}: {error}")
        return 1
    finally:
        sock.close()
    return 0


async def _serve_until_stdin_closes(
    server: uvicorn.Server, sock: socket.socket, device_key: str
) -> None:
    def watch_stdin() -> None:
        # EOF: the kiosk stopped the service, or the kiosk is gone.
        for _line in sys.stdin:
            pass
        server.should_exit = True

    threading.Thread(target=watch_stdin, name="kiosk-embedded-stdin", daemon=True).start()
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not serving.done():
        await asyncio.sleep(_POLL_SECONDS)
    if server.started:
        _say(_READY, device_key)
    await serving
    if not server.started:
        raise EmbeddedServiceError("uvicorn did not start")


if __name__ == "__main__":
    sys.exit(serve_in_child(Path(sys.argv[1]), int(sys.argv[2])))
