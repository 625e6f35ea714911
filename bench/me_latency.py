"""`GET /v1/me` latency from the terminal's client: p50/p95, embedded (SQLite, uvicorn in a thread of
this process, as the kiosk runs it) and `kiosk-server` on PostgreSQL over loopback (a separate
process). Both are seeded with the demo sites and signed in as DEMO/1001.

    uv run python bench/me_latency.py [--requests 500] [--postgres postgresql://postgres@127.0.0.1:5432/test]

The PostgreSQL part creates its own database on that server and drops it afterwards; it is skipped
when no URL is given and KIOSK_TEST_POSTGRES_URL is unset.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kiosk.api.client import KioskClient


async def measure(base_url: str, device_key: str, requests: int) -> list[float]:
    async with KioskClient(base_url, device_key) as client:
        await client.sign_in("DEMO", "1001", "246810")
        for _ in range(20):  # warm-up: connections, caches
            await client.me()
        timings = []
        for _ in range(requests):
            start = time.perf_counter()
            await client.me()
            timings.append((time.perf_counter() - start) * 1000)
        await client.sign_out()
    return timings


def report(label: str, timings: list[float]) -> None:
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"  {label:34s} p50 {p50:5.2f} ms   p95 {p95:5.2f} ms   ({len(timings)} requests)")


def embedded(requests: int) -> None:
    from kiosk.embedded import EmbeddedService

    with tempfile.TemporaryDirectory() as data:
        os.environ["KIOSK_DATA_DIR"] = data
        service = EmbeddedService()
        service.start(Path(data))
        endpoint = service.wait_ready(timeout=60)
        try:
            report(
                "embedded (SQLite, thread)",
                asyncio.run(measure(endpoint.base_url, endpoint.device_key, requests)),
            )
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


def postgres(server_url: str, requests: int) -> None:
    from kiosk_server.demo import ensure_demo

    name = f"kiosk_bench_{secrets.token_hex(4)}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    url = server_url.rsplit("/", 1)[0] + "/" + name
    try:
        with tempfile.TemporaryDirectory() as data:
            key = ensure_demo(url, key_path=Path(data) / "key")
            port = free_port()
            env = dict(os.environ, KIOSK_DATA_DIR=data)
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "kiosk_server.cli",
                    "--database-url",
                    url,
                    "--port",
                    str(port),
                    "--workers",
                    "2",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                base = f"http://127.0.0.1:{port}"
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                        break
                    except OSError:
                        time.sleep(0.2)
                time.sleep(1.0)  # both workers up
                report(
                    "kiosk-server, 2 workers, PostgreSQL", asyncio.run(measure(base, key, requests))
                )
            finally:
                server.terminate()
                server.wait(timeout=20)
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--postgres", default=os.environ.get("KIOSK_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    print("GET /v1/me from the terminal's client (target p95 ≤ 5 ms)")
    embedded(args.requests)
    if args.postgres:
        postgres(args.postgres, args.requests)
    else:
        print("  PostgreSQL: skipped (no --postgres URL, KIOSK_TEST_POSTGRES_URL unset)")


if __name__ == "__main__":
    main()
