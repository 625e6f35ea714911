"""`settle`, the terminal tests' wait for the app's workers, is bounded: a worker that never ends
fails the test with its name instead of holding the run, and the pollers are left out."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from tests.terminal import conftest
from tests.terminal.conftest import settle, wait_until


class Stuck(App[None]):
    def __init__(self, group: str) -> None:
        super().__init__()
        self.group = group
        self.gate = asyncio.Event()

    def compose(self) -> ComposeResult:
        yield Static("waiting")

    def on_mount(self) -> None:
        self.run_worker(self.gate.wait(), name="never-ends", group=self.group)


async def test_a_worker_that_never_ends_fails_settle_with_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(conftest, "SETTLE_SECONDS", 0.5)
    app = Stuck(group="api")
    async with app.run_test() as pilot:
        with pytest.raises(AssertionError, match="never-ends"):
            await settle(pilot)
        app.gate.set()
        await settle(pilot)


async def test_a_polling_worker_is_left_to_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "SETTLE_SECONDS", 0.5)
    app = Stuck(group=min(conftest.POLLING_GROUPS))
    async with app.run_test() as pilot:
        await settle(pilot)
        assert [worker.is_running for worker in app.workers] == [True]
        app.gate.set()
        await wait_until(pilot, lambda: not any(worker.is_running for worker in app.workers))
