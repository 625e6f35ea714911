"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, stopped within a bound:
aiosmtpd's `Controller.stop()` joins its thread with no limit, and on Python 3.12.1 and later it
never returns while a client connection is still open (aiosmtpd issue 394)."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.processes import free_port

STOP_SECONDS = 10


class Mailbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.endswith("@refused.test"):
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def stop_within(controller: Controller, seconds: float = STOP_SECONDS) -> None:
    """`controller.stop()`, given `seconds`; its server thread is a daemon, so one that does not
    stop is reported and left to die with the run."""
    stopper = threading.Thread(target=controller.stop, name="smtp-stop", daemon=True)
    stopper.start()
    stopper.join(seconds)
    if stopper.is_alive():
        raise AssertionError(f"the test SMTP server did not stop within {seconds} s")


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[tuple[Mailbox, int]]:
    """The mailbox and the port it listens on, 127.0.0.1."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        stop_within(controller)
