"""The retry policy of money requests, on tenacity: the same idempotency key on every attempt, a
retry only while the outcome is unknown, and no outcome guessed.

The client's own retries (`KioskClient._send`) resend one HTTP request over a lost connection;
this is the request as the person asked for it (an order, a top-up, a cancellation): tried
again while the service is unreachable or still working on the key, a few times, then given up
with the last error, so that the screen says it could not confirm and offers to try again with
the same key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from kiosk.api.errors import ProblemError, ServiceUnavailable

T = TypeVar("T")

RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0)
"""Seconds before each new attempt of a money request whose answer was not seen."""

MAX_RETRY_AFTER = 5.0
"""The longest wait a `retry_after` from the service may impose between two attempts."""

_RETRYABLE_CODES = frozenset({"idempotency-in-progress"})


def is_retryable(error: BaseException) -> bool:
    """True when the money request's outcome is unknown (the service unreachable, a gateway
    error, a timeout) or still being worked out: a retry with the same key is the way on."""
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
    each delay while its outcome is unknown (`is_retryable`); a `retry_after` from the service
    lengthens the wait, up to `MAX_RETRY_AFTER`. `on_retry(n)` is told before the n-th retry.
    The last error is raised when every attempt failed; a refusal is raised at once."""
    waits = tuple(RETRY_DELAYS if delays is None else delays)

    def wait(state: RetryCallState) -> float:
        # Also asked after the last attempt, before tenacity sees it must stop.
        delay = waits[min(state.attempt_number, len(waits)) - 1] if waits else 0.0
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, ProblemError) and error.retry_after is not None:
            delay = max(delay, min(float(error.retry_after), MAX_RETRY_AFTER))
        return delay

    def before_sleep(state: RetryCallState) -> None:
        on_retry(state.attempt_number)

    retrying = AsyncRetrying(
        stop=stop_after_attempt(len(waits) + 1),
        wait=wait,
        retry=retry_if_exception(is_retryable),
        before_sleep=before_sleep,
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable")  # pragma: no cover - reraise=True raises the last error
