"""Till purchases per second that `kiosk-server --workers 2` sustains on PostgreSQL, with 20
concurrent clients in this (separate) process on loopback, and their p50/p95 latency.

    uv run python bench/purchases_bench.py [--server postgresql://postgres@127.0.0.1:5432/test]
        [--seconds 10] [--clients 20] [--workers 2] [--rate half,400] [--http httptools|h11]

Three runs: saturated (each client sends its next purchase as soon as the last is answered: the
most the service sustains; with 20 clients the mean latency is then 20 / rate, so p95 <= 50 ms
there takes well over 400/s), then paced, once at each `--rate` (the same 20 clients sending that
many purchases a second in all on a fixed schedule: the latency a purchase sees when the service
is asked for that rate): half the saturated rate (the performance issue's target: p95 <= 50 ms),
then 400/s (the money issue's).

Its anchor, measured in the same run on the same database once the server has stopped: pgbench
(the PostgreSQL machine's own) with as many clients running `bench/purchase.pgbench.sql`, a
purchase's writes as plain SQL (guarded balance update, ledger entry, ticket, line). The
saturated rate is printed as a share of it (issue target: >= 15%).

It also prints what the client side alone manages against a trivial route (`GET /v1/health`,
same 20 clients, same process): if that is not well above the purchase rate, the bench
measures itself. And the CPU time that the server's workers and this client spent per
purchase, which is what bounds the rate on a 2-core machine.

It creates a scratch database on that server (dropped at the end), seeds accounts, starts the
real server and sends purchases, each with a fresh badge token and idempotency key (one token
pays once, so each purchase uses an (account, time step) pair of its own). Target from the money
issue: >= 400 purchases/s with p95 <= 50 ms on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from kiosk_server.db import make_engine, make_session_factory, upgrade
from kiosk_server.models import Account, Device, DeviceSite, LedgerEntry, Site
from kiosk_server.security import new_token, sha256_hex
from kiosk_server.tokens import current_step, make_badge_token, new_badge_secret

ACCOUNTS = 12000
"""Half for the saturated run, the other half shared by the paced ones; two tokens each (the step
the run starts in and the next): 12,000 purchases for the saturated run, 6,000 for each of two
paced ones."""


def _rates(text: str) -> list[str]:
    """`--rate`: purchases/s of each paced run, or `half` (half the saturated rate)."""
    rates = [part.strip() for part in text.split(",") if part.strip()]
    for rate in rates:
        if rate != "half" and float(rate) <= 0:
            raise argparse.ArgumentTypeError(f"not a rate: {rate}")
    return rates


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(server: str, statement: str) -> None:
    connection = await asyncpg.connect(_plain(server))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _seed(url: str) -> tuple[str, list[tuple[int, int, bytes]]]:
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            site = Site(code="BENCH", name="Bench", settings={}, created_at=now)
            session.add(site)
            await session.flush()
            rows = [
                {
                    "site_id": site.id,
                    "identifier": f"B{index:05d}",
                    "name": f"Person {index}",
                    "roles": [],
                    "status": "active",
                    "created_at": now,
                    "badge_secret": new_badge_secret(),
                    "balance_cents": 100_000,
                }
                for index in range(ACCOUNTS)
            ]
            await session.execute(insert(Account), rows)
            result = await session.execute(
                Account.__table__.select().with_only_columns(Account.id, Account.badge_secret)
            )
            accounts = [(int(row[0]), site.id, bytes(row[1])) for row in result.all()]
            await session.execute(
                insert(LedgerEntry),
                [
                    {
                        "site_id": site.id,
                        "account_id": account_id,
                        "kind": "top_up",
                        "amount_cents": 100_000,
                        "currency": "EUR",
                        "reason": "bench",
                        "created_at": now,
                    }
                    for account_id, _, _ in accounts
                ],
            )
            key = new_token()
            device = Device(
                name="Caisse bench", role="till", key_hash=sha256_hex(key), created_at=now
            )
            session.add(device)
            await session.flush()
            session.add(DeviceSite(device_id=device.id, site_id=site.id))
        return key, accounts
    finally:
        await engine.dispose()


PGBENCH_SCRIPT = Path(__file__).with_name("purchase.pgbench.sql")


def _pgbench_tps(
    url: str, accounts: list[tuple[int, int, bytes]], seconds: float, clients: int
) -> float | None:
    """Transactions per second of `PGBENCH_SCRIPT` on the database at `url`; None when pgbench
    is not installed or fails (the reason is printed)."""
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        print("anchor: pgbench not found (Debian's postgresql-client has it)")
        return None
    parsed = make_url(url)
    ids = [account_id for account_id, _, _ in accounts]
    command = [
        pgbench,
        "-n",
        "-c",
        str(clients),
        "-j",
        str(os.cpu_count() or 1),
        "-T",
        str(max(1, round(seconds))),
        "-f",
        str(PGBENCH_SCRIPT),
        "-D",
        f"min_id={min(ids)}",
        "-D",
        f"max_id={max(ids)}",
        "-D",
        f"site_id={accounts[0][1]}",
        "-h",
        parsed.host or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
        parsed.database or "",
    ]
    env = {**os.environ, **({"PGPASSWORD": parsed.password} if parsed.password else {})}
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=seconds + 60, check=False
    )
    found = re.search(r"^tps = ([0-9.]+)", done.stdout, re.MULTILINE)
    if done.returncode != 0 or found is None:
        print(f"anchor: pgbench failed ({done.returncode}): {done.stderr.strip()[-300:]}")
        return None
    return float(found.group(1))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cpu_seconds(pids: set[int]) -> float:
    """User + system CPU seconds of these processes so far (Linux /proc)."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _process_tree(root: int) -> set[int]:
    """The process and its descendants (the server's workers)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                    parents[int(entry)] = int(stat.read().rpartition(")")[2].split()[1])
            except OSError:
                continue
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree


class _Connection:
    """A minimal HTTP/1.1 keep-alive client for one connection.

    httpx costs about 3 ms of CPU per request here, as much as a quarter of what the server
    spends on a purchase, and it runs on the same two cores: the bench would measure itself.
    This one writes the request in one piece, reads a `Content-Length` answer and reconnects
    after a `Connection: close`, nothing more (enough for this service's JSON answers)."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host = host
        self.port = port
        self.fixed = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            sock = self.writer.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        assert self.reader is not None
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.fixed}{extra}"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode("latin-1") + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        closing = False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "transfer-encoding":
                raise RuntimeError("chunked answers are not supported by this bench client")
            elif name.lower() == "connection" and "close" in value.lower():
                closing = True
        body = await self.reader.readexactly(length)
        if closing:  # the server ends the connection: the next request opens a new one
            self.close()
            self.reader = self.writer = None
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _host_port(base: str) -> tuple[str, int]:
    host, _, port = base.removeprefix("http://").partition(":")
    return host, int(port)


async def _probe(base: str, seconds: float, clients: int) -> float:
    """Requests per second the client side manages against a route that does nothing."""
    deadline = time.perf_counter() + seconds
    count = 0
    host, port = _host_port(base)

    async def client() -> None:
        nonlocal count
        connection = _Connection(host, port, {})
        try:
            while time.perf_counter() < deadline:
                await connection.request("GET", "/v1/health")
                count += 1
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return count / (time.perf_counter() - started)


def _purchase_body(token: str) -> bytes:
    return json.dumps(
        {
            "badge_token": token,
            "lines": [
                {"item": "Menu", "quantity": 1, "unit_price_cents": 850, "vat_rate_bp": 1000}
            ],
            "total_cents": 850,
        }
    ).encode()


def _tokens(accounts: list[tuple[int, int, bytes]]) -> list[str]:
    """One token per account for the current step and one for the next (one token pays once)."""
    step = current_step(dt.datetime.now(dt.UTC))
    return [
        make_badge_token(site_id=site_id, account_id=account_id, secret=secret, step=step + offset)
        for offset in (0, 1)
        for account_id, site_id, secret in accounts
    ]


async def _paced(
    base: str, till_key: str, tokens: list[str], seconds: float, clients: int, rate: float
) -> tuple[int, list[float], dict[int, int]]:
    """`rate` purchases per second in all, spread evenly over `clients` connections, each sending
    on a fixed schedule. A purchase's latency runs from the moment it was due, not from when it
    was sent: one stuck behind a slow answer counts its wait (no coordinated omission)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = list(reversed(tokens))
    period = clients / rate
    start = time.perf_counter() + 0.05
    done = 0
    host, port = _host_port(base)

    async def client(index: int) -> None:
        nonlocal done
        connection = _Connection(
            host, port, {"X-Device-Key": till_key, "Content-Type": "application/json"}
        )
        try:
            due = start + index * period / clients
            while queue and due < start + seconds:
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                status, _ = await connection.request(
                    "POST",
                    "/v1/till/purchases",
                    _purchase_body(queue.pop()),
                    {"Idempotency-Key": str(uuid.uuid4())},
                )
                latencies.append((time.perf_counter() - due) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 201:
                    done += 1
                due += period
        finally:
            connection.close()

    await asyncio.gather(*(client(index) for index in range(clients)))
    return done, latencies, statuses


def _latency_line(latencies: list[float]) -> str:
    latencies.sort()
    return (
        f"latency: p50 {statistics.median(latencies):.1f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)]:.1f} ms, max {latencies[-1]:.1f} ms"
    )


async def _run(
    base: str, till_key: str, tokens: list[str], seconds: float, clients: int
) -> tuple[int, list[float], dict[int, int]]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = list(reversed(tokens))
    deadline = time.perf_counter() + seconds
    done = 0
    host, port = _host_port(base)

    async def client() -> None:
        nonlocal done
        connection = _Connection(
            host, port, {"X-Device-Key": till_key, "Content-Type": "application/json"}
        )
        try:
            while queue and time.perf_counter() < deadline:
                body = _purchase_body(queue.pop())
                started = time.perf_counter()
                status, _ = await connection.request(
                    "POST",
                    "/v1/till/purchases",
                    body,
                    {"Idempotency-Key": str(uuid.uuid4())},
                )
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 201:
                    done += 1
        finally:
            connection.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return done, latencies, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--server",
        default=os.environ.get(
            "KIOSK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--rate",
        type=_rates,
        default="half,400",
        help="purchases/s of each paced run after the saturated one, comma-separated; 'half' is "
        "half the saturated rate ('': none)",
    )
    parser.add_argument("--http", choices=("httptools", "h11"), default=None)
    parser.add_argument(
        "--server-log", default=os.devnull, help="file for the server's stderr (default: none)"
    )
    args = parser.parse_args()

    name = f"kiosk_bench_{secrets.token_hex(4)}"
    asyncio.run(_admin(args.server, f'CREATE DATABASE "{name}"'))
    url = make_url(args.server).set(database=name).render_as_string(hide_password=False)
    process: subprocess.Popen[bytes] | None = None
    # The server's own messages (a worker restarted, an error) go to a file next to the output.
    server_log = open(args.server_log, "wb")  # noqa: SIM115 - closed in `finally`
    try:
        upgrade(url)
        till_key, accounts = asyncio.run(_seed(url))
        port = _free_port()
        env = {**os.environ, "KIOSK_SERVER_LOG_LEVEL": "WARNING"}
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kiosk_server.cli",
                "--database-url",
                url,
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                *(["--http", args.http] if args.http else []),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=server_log,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        half = len(accounts) // 2
        tokens = _tokens(accounts[:half])
        # Warm-up: connections, pools, first queries.
        asyncio.run(_run(base, till_key, tokens[-200:], 2, args.clients))
        tokens = tokens[:-200]
        probe_rate = asyncio.run(_probe(base, 3, args.clients))
        server_pids = _process_tree(process.pid)
        server_cpu = _cpu_seconds(server_pids)
        client_cpu = time.process_time()
        started = time.perf_counter()
        done, latencies, statuses = asyncio.run(
            _run(base, till_key, tokens, args.seconds, args.clients)
        )
        elapsed = time.perf_counter() - started
        server_cpu = _cpu_seconds(server_pids) - server_cpu
        client_cpu = time.process_time() - client_cpu
        print(
            f"workers={args.workers} clients={args.clients} cores={os.cpu_count()} "
            f"load={os.getloadavg()[0]:.1f}"
        )
        print(f"client alone (GET /v1/health): {probe_rate:.0f} requests/s")
        if done:
            print(
                f"CPU per purchase: server {server_cpu / done * 1000:.1f} ms, "
                f"client {client_cpu / done * 1000:.1f} ms"
            )
        saturated = done / elapsed
        print(f"purchases: {done} in {elapsed:.1f} s = {saturated:.0f}/s (answers: {statuses})")
        print(_latency_line(latencies))
        share = (len(accounts) - half) // max(1, len(args.rate))
        for index, asked in enumerate(args.rate):
            # The same clients at a set rate: what a purchase waits when the service is asked
            # for that many a second rather than for all it can do.
            rate = saturated / 2 if asked == "half" else float(asked)
            mine = accounts[half + index * share : half + (index + 1) * share]
            time.sleep(1.0)
            started = time.perf_counter()
            done, latencies, statuses = asyncio.run(
                _paced(base, till_key, _tokens(mine), args.seconds, args.clients, rate)
            )
            elapsed = time.perf_counter() - started
            said = " (half the saturated rate)" if asked == "half" else ""
            print(
                f"paced at {rate:.0f}/s{said}: {done} in {elapsed:.1f} s = "
                f"{done / elapsed:.0f}/s (answers: {statuses})"
            )
            print(_latency_line(latencies) + " (from each purchase's due time)")
        process.terminate()
        process.wait(timeout=15)
        process = None
        anchor = _pgbench_tps(url, accounts, args.seconds, args.clients)
        if anchor:
            print(
                f"anchor: pgbench, {args.clients} clients, a purchase's writes as plain SQL "
                f"(bench/purchase.pgbench.sql), same database: {anchor:.0f} tps"
            )
            print(
                f"ratio: saturated purchases {saturated:.0f}/s = {saturated / anchor:.1%} of "
                "the anchor (target >= 15%)"
            )
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=15)
        server_log.close()
        asyncio.run(_admin(args.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
