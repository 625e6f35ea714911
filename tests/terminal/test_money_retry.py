"""The money retry policy (`kiosk.api.retry`): a request whose outcome is unknown is sent again
with the same key a few times, a refusal is never retried, and the last error comes back when
every attempt failed (the screens then say they could not confirm)."""

from __future__ import annotations

import pytest

from kiosk.api.errors import ProblemError, ServiceUnavailable
from kiosk.api.retry import send_money

NO_WAIT = (0.0, 0.0, 0.0)


class Service:
    """Answers each call with the next of `outcomes` (an exception is raised)."""

    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    async def __call__(self) -> object:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


async def test_an_unknown_outcome_is_retried_until_the_answer_comes() -> None:
    in_progress = ProblemError(code="idempotency-in-progress", status=409, retry_after=0)
    service = Service(ServiceUnavailable("down"), in_progress, "receipt")
    retries: list[int] = []
    assert await send_money(service, on_retry=retries.append, delays=NO_WAIT) == "receipt"
    assert service.calls == 3
    assert retries == [1, 2]


async def test_a_refusal_is_not_retried() -> None:
    service = Service(ProblemError(code="insufficient-balance", status=409), "never")
    retries: list[int] = []
    with pytest.raises(ProblemError) as refused:
        await send_money(service, on_retry=retries.append, delays=NO_WAIT)
    assert refused.value.code == "insufficient-balance"
    assert service.calls == 1
    assert retries == []


async def test_the_last_error_comes_back_when_no_attempt_was_answered() -> None:
    service = Service(*(ServiceUnavailable(f"down {n}") for n in range(4)))
    retries: list[int] = []
    with pytest.raises(ServiceUnavailable, match="down 3"):
        await send_money(service, on_retry=retries.append, delays=NO_WAIT)
    assert service.calls == 4
    assert retries == [1, 2, 3]
