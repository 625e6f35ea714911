"""Where the service keeps its files on this machine (the embedded demo's database and key)."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "badge-kiosk"


def data_dir() -> Path:
    """The data directory: `KIOSK_DATA_DIR`, else the user's data directory for the app.
    Created on first use, readable by its owner only (it holds a device key)."""
    configured = os.environ.get("KIOSK_DATA_DIR")
    if configured:
        path = Path(configured).expanduser()
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir(APP_NAME))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def demo_database_path() -> Path:
    """The embedded demo's SQLite file."""
    return data_dir() / "demo.sqlite3"


def demo_database_url() -> str:
    """The embedded demo's database URL (sync form; `kiosk_server.db` derives the async one)."""
    return f"sqlite:///{demo_database_path()}"


def demo_device_key_path() -> Path:
    """The file holding the embedded demo terminal's device key (mode 0600)."""
    return data_dir() / "demo-device.key"
