"""The embedded demo service: the real service under uvicorn in a process of its own, on a SQLite
file in a data directory of the test's own."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from kiosk.api import KioskClient
from kiosk.app import create_app
from kiosk.embedded import EmbeddedService, EmbeddedServiceError
from kiosk.screens.welcome import WelcomeScreen
from kiosk.settings import KioskSettings
from kiosk_server import paths
from tests.terminal.conftest import SIZE, screen_text, wait_until


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("KIOSK_DATA_DIR", str(directory))
    # Cheap argon2 for the demo's PINs (the service reads KIOSK_SERVER_* settings).
    monkeypatch.setenv("KIOSK_SERVER_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("KIOSK_SERVER_ARGON2_MEMORY_COST_KIB", "8")
    monkeypatch.setenv("KIOSK_SERVER_ARGON2_PARALLELISM", "1")
    return directory


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


async def test_starts_answers_with_the_demo_key_and_stops(data_dir: Path) -> None:
    service = EmbeddedService()
    assert service.ready_after is None
    started = time.monotonic()
    service.start(data_dir)
    try:
        endpoint = await service.wait_ready_async(timeout=60)
        waited = time.monotonic() - started
        async with KioskClient(endpoint.base_url, endpoint.device_key) as client:
            health = await client.health()
            device = await client.device()
            identity = await client.identify("demo", "1001")
    finally:
        service.stop()

    assert endpoint.base_url == f"http://127.0.0.1:{service.port}"
    # How long it took to serve, as the kiosk's log says (bench/startup.py reports it).
    assert service.ready_after is not None
    assert 0 < service.ready_after <= waited
    assert health.status == "ok"
    assert device.role == "terminal"
    assert "DEMO" in [site.code for site in device.sites]
    assert identity.account_state == "active"
    assert service.error is None
    assert not service.running
    assert service.port is not None
    assert refuses_connections(service.port)
    assert endpoint.device_key not in repr(endpoint)
    # The very files `kiosk-server` (no database URL) serves from the same data directory.
    assert paths.demo_database_path().is_file()
    assert paths.demo_device_key_path().read_text().strip() == endpoint.device_key


def test_second_start_on_the_same_data_keeps_the_demo_and_its_key(data_dir: Path) -> None:
    first = EmbeddedService()
    first.start(data_dir)
    try:
        first_endpoint = first.wait_ready(timeout=60)
    finally:
        first.stop()

    second = EmbeddedService()
    second.start(data_dir)
    try:
        second_endpoint = second.wait_ready(timeout=60)
    finally:
        second.stop()

    assert second_endpoint.device_key == first_endpoint.device_key
    assert not first.running
    assert not second.running


def test_a_failed_start_is_reported_with_its_cause(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("in the way", encoding="utf-8")
    service = EmbeddedService()

    service.start(not_a_directory)

    with pytest.raises(EmbeddedServiceError):
        service.wait_ready(timeout=60)
    assert isinstance(service.error, OSError)
    service.stop()
    assert not service.running


def test_stop_before_ready_ends_the_process(data_dir: Path) -> None:
    service = EmbeddedService()
    service.start(data_dir)

    service.stop()

    assert not service.running
    assert service.port is not None
    assert refuses_connections(service.port)


async def test_a_demo_service_that_cannot_start_leaves_a_calm_welcome_screen(
    data_dir: Path, tmp_path: Path
) -> None:
    # The log file's folder is a file: the service's process cannot even be started.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings = KioskSettings(language="en", log_file=blocker / "kiosk.log")
    app = create_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.connection == "failed")
        assert isinstance(app.screen, WelcomeScreen)
        assert "The service cannot be reached. Try again in a moment." in screen_text(app)
        assert app._embedded is None
