"""`GET /v1/me` latency from the terminal's client: p50/p95, embedded (SQLite, uvicorn in a process
of its own, as the kiosk runs it) and `kiosk-server` on PostgreSQL over loopback (a separate
process). Both are seeded with the demo sites and signed in as DEMO/1001.

    uv run python bench/me_latency.py [--requests 2000] [--postgres postgresql://postgres@127.0.0.1:5432/test]

The anchor, measured in the same run: a one-line FastAPI route on the same stack (uvicorn in a
thread with the same loop and HTTP protocol as the embedded service, an httpx client with the
same settings as the terminal's); each figure is printed with its p95 as a ratio to the anchor's
(target: at most 2x).

The three are measured in turns, 200 requests each (after 10 not counted), until each has had
`--requests`: this machine's speed drifts within a run (a slow minute once doubled every figure
measured in it), and a drift then weighs on the anchor as on the services instead of on
whichever was measured at the time.

The PostgreSQL part creates its own database on that server and drops it afterwards; it is skipped
when no URL is given and KIOSK_TEST_POSTGRES_URL is unset.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx

from kiosk.api.client import KioskClient

BLOCK = 200
"""Requests in a row to one service before the next one's turn."""
TURN_WARM_UP = 10
"""Requests at the start of each turn, not counted: a service that slept while the others had
their turn answers its first few requests slower (caches gone cold), which would weigh on the
services' p95 (ten turns of a few requests, out of a hundred above the p95) and hardly on the
anchor's, served from the bench's own process."""

Call = Callable[[], Awaitable[object]]


async def interleaved(calls: dict[str, Call], requests: int) -> dict[str, list[float]]:
    """Each call's timings (ms), `requests` each, measured in turns of `BLOCK` (after
    `TURN_WARM_UP` more)."""
    for call in calls.values():
        for _ in range(20):  # warm-up: connections, caches
            await call()
    timings: dict[str, list[float]] = {label: [] for label in calls}
    while any(len(done) < requests for done in timings.values()):
        for label, call in calls.items():
            done = timings[label]
            for _ in range(TURN_WARM_UP):
                await call()
            for _ in range(min(BLOCK, requests - len(done))):
                start = time.perf_counter()
                await call()
                done.append((time.perf_counter() - start) * 1000)
    return timings


def report(label: str, timings: list[float], anchor_p95: float | None) -> None:
    p50 = statistics.median(timings)
    p95 = p95_of(timings)
    ratio = f"   {p95 / anchor_p95:.2f}x the anchor's p95" if anchor_p95 else ""
    print(f"  {label:36s} p50 {p50:5.2f} ms   p95 {p95:5.2f} ms   ({len(timings)} requests){ratio}")


def p95_of(timings: list[float]) -> float:
    return sorted(timings)[int(len(timings) * 0.95) - 1]


@contextlib.contextmanager
def anchor_server() -> Iterator[str]:
    """A one-line route, served as the embedded service serves (see the module docstring)."""
    import uvicorn
    from fastapi import FastAPI

    from kiosk.embedded import _loop_factory
    from kiosk_server.http_protocol import best_protocol

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, log_level="warning", log_config=None, access_log=False, http=best_protocol()
    )
    server = uvicorn.Server(config)

    def serve() -> None:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(server.serve(sockets=[sock]))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextlib.contextmanager
def embedded_service() -> Iterator[tuple[str, str]]:
    """The kiosk's own: its base URL and device key."""
    from kiosk.embedded import EmbeddedService

    with tempfile.TemporaryDirectory() as data:
        os.environ["KIOSK_DATA_DIR"] = data
        service = EmbeddedService()
        service.start(Path(data))
        endpoint = service.wait_ready(timeout=60)
        try:
            yield endpoint.base_url, endpoint.device_key
        finally:
            service.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _admin(server_url: str, sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextlib.contextmanager
def postgres_service(server_url: str) -> Iterator[tuple[str, str]]:
    """`kiosk-server --workers 2` on a scratch database of that server (dropped afterwards):
    its base URL and a terminal's device key."""
    from kiosk_server.demo import ensure_demo

    name = f"kiosk_bench_{secrets.token_hex(4)}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    url = server_url.rsplit("/", 1)[0] + "/" + name
    try:
        with tempfile.TemporaryDirectory() as data:
            key = ensure_demo(url, key_path=Path(data) / "key")
            port = free_port()
            env = dict(os.environ, KIOSK_DATA_DIR=data)
            command = [sys.executable, "-m", "kiosk_server.cli", "--database-url", url]
            server = subprocess.Popen(
                [*command, "--port", str(port), "--workers", "2"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                        break
                    except OSError:
                        time.sleep(0.2)
                time.sleep(1.0)  # both workers up
                yield f"http://127.0.0.1:{port}", key
            finally:
                server.terminate()
                server.wait(timeout=20)
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.asynccontextmanager
async def signed_in(base_url: str, device_key: str) -> AsyncIterator[KioskClient]:
    async with KioskClient(base_url, device_key) as client:
        await client.sign_in("DEMO", "1001", "246810")
        try:
            yield client
        finally:
            await client.sign_out()


async def measure(
    anchor_url: str, services: dict[str, tuple[str, str]], requests: int
) -> dict[str, list[float]]:
    async with contextlib.AsyncExitStack() as stack:
        plain = await stack.enter_async_context(httpx.AsyncClient(base_url=anchor_url, timeout=5.0))

        async def ping() -> None:
            (await plain.get("/ping")).raise_for_status()

        calls: dict[str, Call] = {"anchor: a one-line route": ping}
        for label, (base_url, key) in services.items():
            client = await stack.enter_async_context(signed_in(base_url, key))
            calls[label] = client.me
        return await interleaved(calls, requests)


def main() -> None:
    parser = argparse.ArgumentParser()
    # 2,000: with 500, a p95 rested on 25 requests and moved by a third from run to run.
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--postgres", default=os.environ.get("KIOSK_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    print("GET /v1/me from the terminal's client (target: p95 at most 2x the anchor's)")
    with contextlib.ExitStack() as stack:
        anchor_url = stack.enter_context(anchor_server())
        services = {"embedded (SQLite, own process)": stack.enter_context(embedded_service())}
        if args.postgres:
            services["kiosk-server, 2 workers, PostgreSQL"] = stack.enter_context(
                postgres_service(args.postgres)
            )
        timings = asyncio.run(measure(anchor_url, services, args.requests))
    anchor_label, *others = timings
    report(anchor_label, timings[anchor_label], None)
    for label in others:
        report(label, timings[label], p95_of(timings[anchor_label]))
    if not args.postgres:
        print("  PostgreSQL: skipped (no --postgres URL, KIOSK_TEST_POSTGRES_URL unset)")


if __name__ == "__main__":
    main()
