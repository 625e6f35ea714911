"""The HTTP side of idempotency keys: the `Idempotency-Key` header, and a dependency that runs a
money route's work at most once per key (`services.idempotency.once`) and answers as the route
declares.

A route takes `once: Once` (or `MaybeOnce`, where the key is optional) and returns
`await once.run(scope=..., body=..., work=..., model=...)`: its own response model, the work's
result the first time, the stored answer rebuilt on a replay (with `Idempotency-Replayed:
true`). A stored refusal is replayed as it was first sent (`ReplayedRefusal`'s handler)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.clock import Clock
from kiosk_server.deps import ClockDep, DbSession
from kiosk_server.problems import PROBLEM_MEDIA_TYPE
from kiosk_server.services import idempotency
from kiosk_server.services.idempotency import KEY_HEADER, KEY_PATTERN, MAX_KEY_LENGTH

ResultT = TypeVar("ResultT", bound=BaseModel)

IdempotencyKeyHeader = Annotated[
    str,
    Header(
        alias=KEY_HEADER,
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        pattern=KEY_PATTERN,
        description="One random key per intent (a UUID), reused on every retry of it.",
    ),
]
"""The header of every money route. A missing or malformed key is answered with a problem of
its own (`idempotency-key-missing`, `idempotency-key-invalid`: see
`problems.validation_problem`)."""

OptionalIdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=KEY_HEADER,
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        pattern=KEY_PATTERN,
        description="Optional: one random key per intent, reused on every retry of it. With "
        "it, a retry whose first attempt was applied gets that first answer again.",
    ),
]
"""The header of a route that is safe without a key but whose retry after a lost answer is
not (a visitor's check-in: the retry would be refused as already used)."""


class ReplayedRefusal(Exception):
    """A key's first answer was a refusal: sent again as it was."""

    def __init__(self, answer: idempotency.StoredAnswer) -> None:
        super().__init__(answer.body.get("code"))
        self.answer = answer


@dataclass
class IdempotentRequest:
    """What `run` needs of the request: the route's session and clock, and the key (`None`
    only where the key is optional)."""

    request: Request
    response: Response
    session: AsyncSession
    clock: Clock
    key: str | None
    required: bool

    async def run(
        self,
        *,
        scope: str,
        body: BaseModel,
        work: Callable[[], Awaitable[ResultT]],
        model: type[ResultT],
    ) -> ResultT:
        """`work` at most once per key in `scope` (a route's whole work, in the route's
        session, uncommitted): its result, or the key's first answer again. Without a key
        where it is optional, simply `work`."""
        if self.key is None and not self.required:
            return await work()
        return await self.run_storing(
            scope=scope, body=body, work=lambda _pending: work(), model=model
        )

    async def run_storing(
        self,
        *,
        scope: str,
        body: BaseModel,
        work: Callable[[idempotency.PendingAnswer], Awaitable[ResultT]],
        model: type[ResultT],
    ) -> ResultT:
        """`run` for a work that may store its own answer (`idempotency.PendingAnswer`)."""
        route = self.request.scope.get("route")
        outcome = await idempotency.once(
            self.session,
            self.request.app.state.session_factory,
            key=self.key,
            clock=self.clock,
            scope=scope,
            method=self.request.method,
            path=self.request.url.path,
            body=body,
            work=work,
            status_code=getattr(route, "status_code", None) or 200,
        )
        if not isinstance(outcome, idempotency.StoredAnswer):
            return outcome
        if outcome.status_code >= 400:
            raise ReplayedRefusal(outcome)
        self.response.headers[idempotency.REPLAYED_HEADER] = "true"
        return model.model_validate(outcome.body)


async def _once(
    request: Request,
    response: Response,
    session: DbSession,
    clock: ClockDep,
    key: IdempotencyKeyHeader,
) -> IdempotentRequest:
    return IdempotentRequest(request, response, session, clock, key, required=True)


async def _maybe_once(
    request: Request,
    response: Response,
    session: DbSession,
    clock: ClockDep,
    key: OptionalIdempotencyKeyHeader = None,
) -> IdempotentRequest:
    return IdempotentRequest(request, response, session, clock, key, required=False)


Once = Annotated[IdempotentRequest, Depends(_once)]
"""A money route's request, which needs an `Idempotency-Key`."""
MaybeOnce = Annotated[IdempotentRequest, Depends(_maybe_once)]
"""A request that may carry an `Idempotency-Key` (and then runs at most once per key)."""


async def _replay_refusal(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ReplayedRefusal)  # noqa: S101 - registered for it only
    return JSONResponse(
        exc.answer.body,
        status_code=exc.answer.status_code,
        headers={idempotency.REPLAYED_HEADER: "true"},
        media_type=PROBLEM_MEDIA_TYPE,
    )


def install_replay_handler(app: FastAPI) -> None:
    app.add_exception_handler(ReplayedRefusal, _replay_refusal)
