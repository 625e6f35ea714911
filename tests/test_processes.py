"""The tests' own server processes leave nothing behind: stopping `kiosk-server --workers 2`
stops its workers too, which would otherwise keep their database connections and ports."""

from __future__ import annotations

import os
from pathlib import Path

from tests.processes import kiosk_server


def _children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_stopping_a_server_with_workers_stops_every_worker(tmp_path: Path) -> None:
    env = {**os.environ, "KIOSK_DATA_DIR": str(tmp_path / "data")}
    env.pop("KIOSK_SERVER_DATABASE_URL", None)
    url = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    args = ["--database-url", url, "--workers", "2"]
    # Processes an earlier test of this worker left running are not this server's.
    earlier = _children(os.getpid())
    with kiosk_server(args, env, tmp_path / "server.log"):
        supervisors = [pid for pid in _children(os.getpid()) - earlier if _alive(pid)]
        assert supervisors, "the server is not a child of this process"
        family = {pid for supervisor in supervisors for pid in _children(supervisor)}
        assert len(family) >= 2, (tmp_path / "server.log").read_text()
    assert not [pid for pid in family | set(supervisors) if _alive(pid)]
