"""Our own commands run as processes by the tests, every wait bounded and nothing left behind:
`kiosk-server` on a loopback port in a process group of its own (uvicorn's workers with it), its
output in a file rather than a pipe nobody reads, and the whole group killed when the test ends."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

STOP_SECONDS = 15
"""How long a stopped server may take to exit before its group is killed."""

COMMAND_SECONDS = 60
"""How long one admin command (`kiosk-server site create`...) may run."""


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_command(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `python -m <args>` to its end, within `COMMAND_SECONDS`."""
    return subprocess.run(  # noqa: S603 - our own interpreter and modules, fixed arguments
        [sys.executable, "-m", *args],
        env=env,
        stdin=subprocess.DEVNULL,  # never a terminal, never waiting for input
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
        check=False,
    )


def environment_without(*names: str, **extra: str) -> dict[str, str]:
    """This process's environment without `names`, with `extra` added."""
    env = {name: value for name, value in os.environ.items() if name not in names}
    env.update(extra)
    return env


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop `process` and everything in its process group: TERM, then KILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_SECONDS)
    # Workers may outlive their supervisor: whatever is left of the group goes.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=STOP_SECONDS)
    # A killed process runs until the kernel delivers the signal: wait until it has.
    deadline = time.monotonic() + STOP_SECONDS
    while group_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def group_members(group: int) -> list[int]:
    """The processes of process group `group` that have not exited (zombies count as exited)."""
    found: list[int] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _parent, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue  # gone meanwhile
        if int(pgrp) == group and state != "Z":
            found.append(int(stat.parent.name))
    return found


@dataclass
class RunningServer:
    """A `kiosk-server` the tests started: its base URL and its supervisor process."""

    base: str
    process: subprocess.Popen[bytes]

    def workers(self) -> list[int]:
        """The PIDs of uvicorn's workers (the supervisor's children started by multiprocessing's
        spawn, not its resource tracker)."""
        found: list[int] = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                command = (stat.parent / "cmdline").read_bytes()
            except (OSError, IndexError):
                continue  # gone meanwhile
            if int(fields[1]) == self.process.pid and b"spawn_main" in command:
                found.append(int(stat.parent.name))
        return found

    def worker_with_local_port(self, port: int) -> int | None:
        """The worker that holds a TCP socket bound to `port` on this machine (the client end
        of its database connection that PostgreSQL's `pg_stat_activity.client_port` names)."""
        holders = self._holders(_socket_inodes(port))
        return next(iter(holders), None)

    def busiest_worker(self) -> int | None:
        """The worker holding the most connections of clients to the server (None while no
        worker holds one): killing it cuts requests, whichever worker accepted them."""
        holders = self._holders(_socket_inodes(int(self.base.rsplit(":", 1)[1]), established=True))
        return max(holders, key=holders.__getitem__, default=None)

    def _holders(self, inodes: set[str]) -> dict[int, int]:
        """Of the workers holding any of these sockets, how many each holds."""
        held: dict[int, int] = {}
        for pid in self.workers():
            with contextlib.suppress(OSError):
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    with contextlib.suppress(OSError):
                        if os.readlink(fd) in inodes:
                            held[pid] = held.get(pid, 0) + 1
        return held


_ESTABLISHED = "01"
"""A TCP socket's state in /proc/net/tcp once connected (the listening socket is 0A)."""


def _socket_inodes(port: int, *, established: bool = False) -> set[str]:
    """The TCP sockets of this machine bound to `port`, as their /proc/PID/fd links read."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) != port:
                    continue
                if not established or fields[3] == _ESTABLISHED:
                    inodes.add(f"socket:[{fields[9]}]")
    return inodes


@contextlib.contextmanager
def kiosk_server(args: list[str], env: dict[str, str], log: Path) -> Iterator[str]:
    """`kiosk-server <args> --port <free port>` until the block ends; yields its base URL once
    `/v1/health` answers. Its output goes to `log`, shown if it stops before it is ready."""
    with running_server(args, env, log) as server:
        yield server.base


@contextlib.contextmanager
def running_server(args: list[str], env: dict[str, str], log: Path) -> Iterator[RunningServer]:
    """`kiosk_server`, yielding the process too (to find and kill its workers)."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "kiosk_server.cli", *args, "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        # No deadline of our own: a server that never gets ready is the per-test limit's.
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    f"kiosk-server stopped ({process.returncode}):\n{log.read_text()}"
                )
            try:
                if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield RunningServer(base, process)
    finally:
        stop_group(process)
