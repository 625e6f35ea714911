"""The confirmation every money action shows before anything is sent (the amount, and what it
will do), and the retry policy of money requests: the same idempotency key on every attempt,
and no outcome shown that the service has not given."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from kiosk.i18n import _
from kiosk.screens.base import IdleKind

T = TypeVar("T")

RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0)
"""Seconds before each new attempt of a money request whose answer was not seen."""

_RETRYABLE_CODES = frozenset({"idempotency-in-progress"})
# Longest wait a `retry_after` from the service may impose between two attempts.
_MAX_RETRY_AFTER = 5.0


class ConfirmMoneyScreen(ModalScreen[bool]):
    """Asks "are you sure?" with the amount in large type and a few lines saying what happens
    (the balance after...). Dismissed with True (confirm) or False (cancel, Escape)."""

    IDLE: ClassVar[IdleKind] = "default"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False, id="confirm_money.cancel"),
    ]
    AUTO_FOCUS = "#confirm"

    def __init__(
        self,
        title: str,
        amount: str,
        details: Sequence[str] = (),
        *,
        confirm_label: str = "",
        back_label: str = "",
    ) -> None:
        super().__init__()
        self.title_text = title
        """What is about to happen, translated ("Top up your account?")."""
        self.amount = amount
        """The amount, formatted."""
        self.details = tuple(details)
        """Plain lines under the amount (already made plain by the caller)."""
        self.confirm_label = confirm_label or _("Confirm")
        self.back_label = back_label or _("Cancel")
        """The button that changes nothing ("Keep the order" where confirming is cancelling)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-money-body", classes="panel"):
            yield Static(Content(self.title_text), classes="title", markup=False)
            yield Static(Content(self.amount), id="confirm-money-amount", markup=False)
            for line in self.details:
                yield Static(Content(line), classes="confirm-money-detail", markup=False)
            with Horizontal(classes="actions"):
                yield Button(self.back_label, id="cancel")
                yield Button(self.confirm_label, id="confirm", variant="success")

    def action_cancel(self) -> None:
        self.dismiss(False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")


def is_retryable(error: BaseException) -> bool:
    """True when the money request's outcome is unknown (the service unreachable, a gateway
    error, a timeout) or still being worked out: a retry with the same key is the way on."""
    from kiosk.api.errors import ProblemError, ServiceUnavailable

    if isinstance(error, ServiceUnavailable):
        return True
    return isinstance(error, ProblemError) and error.code in _RETRYABLE_CODES


async def send_money(
    call: Callable[[], Awaitable[T]],
    *,
    on_retry: Callable[[int], None],
    delays: Sequence[float] | None = None,
) -> T:
    """Run `call` (a money request with its idempotency key already bound) and retry it after
    each delay while its outcome is unknown. `on_retry(n)` is told before the n-th retry. The
    last error is raised when every attempt failed: the caller then says it could not confirm
    and offers to retry with the same key; a refusal (`ProblemError`) is raised at once."""
    from kiosk.api.errors import ProblemError

    if delays is None:
        delays = RETRY_DELAYS
    attempt = 0
    while True:
        try:
            return await call()
        except Exception as error:
            if not is_retryable(error) or attempt >= len(delays):
                raise
            delay = delays[attempt]
            if isinstance(error, ProblemError) and error.retry_after is not None:
                delay = max(delay, min(float(error.retry_after), _MAX_RETRY_AFTER))
            attempt += 1
            on_retry(attempt)
            await asyncio.sleep(delay)
