"""Setting a site up: `kiosk-server accounts import` of 5,000 accounts with opening balances, in
one command (all or nothing), against the same import without balances (the anchor), on SQLite
and PostgreSQL.

    uv run python bench/import_bench.py [--accounts 5000] [--postgres postgresql://postgres@127.0.0.1:5432/test]

Each run is the real command in a process of its own, on a fresh database that already holds the
site (created and migrated beforehand, outside the time). Goal from the bank test: 5,000
accounts with balances in under a minute (one `accounts adjust` per account took about 2.4 s
each: 40 minutes for 1,000).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk_server.db import make_engine


def accounts_csv(count: int, *, balances: bool) -> str:
    header = "identifier,name,email,phone" + (",balance" if balances else "")
    rows = [header]
    for index in range(count):
        row = f"{100000 + index},Person {index},p{index}@example.com,+3361234{index:04d}"
        if balances:
            row += f",{(index * 37) % 5000 / 100:.2f}"
        rows.append(row)
    return "\n".join(rows) + "\n"


def command(url: str, *args: str) -> float:
    """Run `kiosk-server <args> --database-url url`; its wall-clock time in seconds."""
    env = {**os.environ, "KIOSK_DATA_DIR": tempfile.mkdtemp(prefix="import-bench-")}
    env.pop("KIOSK_SERVER_DATABASE_URL", None)
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "kiosk_server.cli", *args, "--database-url", url],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    spent = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"kiosk-server {' '.join(args)} failed:\n{done.stderr}")
    return spent


def run(new_database: Callable[[], str], label: str, count: int, folder: Path) -> None:
    timings = {}
    for balances in (False, True):
        url = new_database()
        command(url, "site", "create", "BENCH", "--name", "Bench")
        path = folder / f"accounts-{balances}.csv"
        path.write_text(accounts_csv(count, balances=balances), encoding="utf-8")
        timings[balances] = command(url, "accounts", "import", "BENCH", str(path))
    anchor, with_balances = timings[False], timings[True]
    print(f"{label}: {count} accounts in one import")
    print(f"  anchor (the same accounts, no balances)  {anchor:6.1f} s")
    print(
        f"  with opening balances                    {with_balances:6.1f} s"
        f"  = {with_balances / anchor:.2f} × anchor  (goal < 60 s)"
    )


async def _create(server: str, name: str) -> None:
    admin = make_engine(server)
    try:
        async with admin.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()


async def _drop(server: str, names: list[str]) -> None:
    admin = make_engine(server)
    try:
        async with admin.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            for name in names:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--postgres", default=os.environ.get("KIOSK_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        folder = Path(data)
        files = iter(range(10))
        run(
            lambda: f"sqlite:///{folder / f'bench-{next(files)}.sqlite3'}",
            "SQLite",
            args.accounts,
            folder,
        )
        if args.postgres:
            made: list[str] = []
            base = args.postgres.rsplit("/", 1)[0]

            def database() -> str:
                name = f"bench_import_{secrets.token_hex(4)}"
                asyncio.run(_create(args.postgres, name))
                made.append(name)
                return f"{base}/{name}"

            try:
                run(database, "PostgreSQL", args.accounts, folder)
            finally:
                asyncio.run(_drop(args.postgres, made))


if __name__ == "__main__":
    main()
