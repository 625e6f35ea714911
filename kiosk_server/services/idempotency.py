"""Idempotency keys: a request that moves money is applied at most once, whatever the retries.

Every money route goes through `once` (its FastAPI side, the header and the answer, is
`routes.idempotent`'s):

1. The `Idempotency-Key` header is required (400 `idempotency-key-missing`).
2. The key is claimed before the work starts. A key already recorded answers at once: a
   different request under the same key (method, path or body) → 422 `idempotency-key-reused`;
   the same request still running → 409 `idempotency-in-progress`; the same request completed →
   the stored status and body again, with `Idempotency-Replayed: true`.
   On **PostgreSQL** the claim is part of the work's own transaction (`claim_in_transaction`):
   the request first takes a transaction-level advisory lock on the key
   (`idempotency_keys.lock_id`), in the same statement as the claim, and holds it to its
   commit; a request that cannot take it answers `idempotency-in-progress` with
   `retry_after: 1`. The key's row is inserted in that transaction, so a worker that dies
   leaves nothing behind: PostgreSQL drops its connection, its transaction and its lock, and
   the retry runs the work. One connection per request, whatever happens.
   On **SQLite** (the embedded service) the claim is committed in its own short transaction
   (`claim_key`), recorded `in_progress` with a 60-second lease.
3. The work runs in the request's transaction, and the answer is stored **in that same
   transaction** (a guarded update that only the claim's owner can make): the ledger entry and
   the stored answer are committed together or not at all. A work may make that update part of
   its own last statement (a till's purchase on PostgreSQL, with `PendingAnswer`).
4. A domain refusal (4xx problem) is stored too, so a retry gets the same refusal. A 5xx or an
   unexpected error is never stored: the claim is deleted so that a retry runs the work again.
5. SQLite: a claim left `in_progress` by a crashed worker is taken over once its lease has run
   out. If the first worker was only slow, its guarded store then finds another owner and its
   whole transaction is rolled back: the work is still applied once.

Keys are scoped: per device and person for a terminal's person routes, per device for tills
(whose person comes from the badge). They are kept a day (`purge_keys`). The keys' rows and
statements (claims, stored answers, the lock, purging) are `services.idempotency_keys`'s.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kiosk_server.clock import Clock
from kiosk_server.problems import ProblemError, problem_document
from kiosk_server.services.idempotency_keys import (
    Claim,
    ClaimLost,
    PendingAnswer,
    StoredAnswer,
    claim_in_transaction,
    claim_key,
    release_key,
    store_answer,
)

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"
MAX_KEY_LENGTH = 255
WORK_ATTEMPTS = 3
"""Tries of the work when PostgreSQL reports a serialization failure or a deadlock."""
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})

ResultT = TypeVar("ResultT", bound=BaseModel)

KEY_PATTERN = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$"
"""Printable ASCII, no space at either end."""


def person_scope(device_id: int, account_id: int) -> str:
    """Keys of a person's requests on a terminal."""
    return f"device:{device_id}:account:{account_id}"


def device_scope(device_id: int) -> str:
    """Keys of a device acting for whoever it serves (a till: the person comes from the badge)."""
    return f"device:{device_id}"


def request_hash(method: str, path: str, body: Mapping[str, Any]) -> str:
    """SHA-256 of the method, the path and the body as canonical JSON (sorted keys, no spaces),
    so that the same request hashes the same however its JSON was laid out."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method.upper()} {path}\n{canonical}".encode()).hexdigest()


_KEY_RE = re.compile(KEY_PATTERN)


def check_key(key: str | None) -> str:
    """The key from the header, or the problem to answer (the route's schema checked it
    already; this holds for callers that did not declare the header)."""
    if key is None or not key:
        raise ProblemError(
            "idempotency-key-missing",
            f"Send an {KEY_HEADER} header: one random key per intent, reused on every retry.",
        )
    if len(key) > MAX_KEY_LENGTH or not _KEY_RE.match(key):
        raise ProblemError(
            "idempotency-key-invalid",
            f"An {KEY_HEADER} is 1 to {MAX_KEY_LENGTH} printable ASCII characters.",
        )
    return key


def _is_retryable(exc: DBAPIError) -> bool:
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code in _RETRYABLE_SQLSTATES


async def once(
    session: AsyncSession,
    session_factory: async_sessionmaker[AsyncSession],
    *,
    key: str | None,
    clock: Clock,
    scope: str,
    method: str,
    path: str,
    body: BaseModel,
    work: Callable[[PendingAnswer], Awaitable[ResultT]],
    status_code: int = 201,
) -> ResultT | StoredAnswer:
    """Run a money request's `work` at most once per idempotency key (see the module
    docstring): its result, or the first answer to the key (`StoredAnswer`, a success or a
    refusal) when it was answered already. A refusal of the work (`ProblemError`) is stored,
    then raised.

    `work` runs in `session` and must not commit; this function commits the work together
    with its stored answer. The work may store that answer itself (`PendingAnswer`), in the
    same transaction and under the same guard: one statement fewer on the hot path (a till's
    purchase). `method`, `path` and `body` are the request's, hashed to refuse another request
    under the same key."""
    key = check_key(key)
    digest = request_hash(method, path, body.model_dump(mode="json"))
    # End the transaction the credential checks opened, if any (on PostgreSQL they ran in
    # autocommit, see `deps.current_device`): on SQLite it holds the write lock, which the
    # claim's own transaction needs, and a connection held here while the claim waits for
    # another could exhaust the pool.
    await session.commit()
    in_transaction = session.get_bind().dialect.name == "postgresql"
    claim: Claim | None = None
    if not in_transaction:
        outcome = await claim_key(
            session_factory, scope=scope, key=key, request_hash=digest, now=clock.now()
        )
        if isinstance(outcome, StoredAnswer):
            return outcome
        claim = outcome
    try:
        for attempt in range(1, WORK_ATTEMPTS + 1):
            try:
                if in_transaction:
                    # Each try is a transaction of its own, with its own lock and claim.
                    claim = None
                    outcome = await claim_in_transaction(
                        session, scope=scope, key=key, request_hash=digest, now=clock.now()
                    )
                    if isinstance(outcome, StoredAnswer):
                        await session.rollback()
                        return outcome
                    claim = outcome
                assert claim is not None  # noqa: S101 - claimed above, one way or the other
                pending = PendingAnswer(claim, status_code)
                result = await work(pending)
                if not pending.stored:
                    await store_answer(
                        session, claim, status_code=status_code, body=result.model_dump(mode="json")
                    )
                await session.commit()
                return result
            except DBAPIError as exc:
                await session.rollback()
                if attempt < WORK_ATTEMPTS and _is_retryable(exc):
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover
    except ClaimLost:
        await session.rollback()
        raise ProblemError(
            "idempotency-in-progress",
            "Another request took this idempotency key over. Retry to read its answer.",
            retry_after=1,
        ) from None
    except ProblemError as problem:
        await session.rollback()
        if claim is None:  # the claim itself was refused (in progress, reused)
            raise
        if problem.status >= 500:
            if not in_transaction:
                await release_key(session_factory, claim)
            raise
        stored = StoredAnswer(problem.status, problem_document(problem, path))
        try:
            if in_transaction:
                # The rollback took the claim with it: claim again, under the lock, to store
                # the refusal (a retry meanwhile may have answered the key: then its answer).
                again = await claim_in_transaction(
                    session, scope=scope, key=key, request_hash=digest, now=clock.now()
                )
                if isinstance(again, StoredAnswer):
                    raise ClaimLost
                claim = again
            await store_answer(session, claim, status_code=stored.status_code, body=stored.body)
            await session.commit()
        except ClaimLost:
            # Another request answered the key: its answer is the key's, not this refusal.
            await session.rollback()
            raise ProblemError(
                "idempotency-in-progress",
                "Another request took this idempotency key over. Retry to read its answer.",
                retry_after=1,
            ) from None
        raise
    except BaseException:
        await session.rollback()
        if claim is not None and not in_transaction:
            await release_key(session_factory, claim)
        raise


__all__ = [
    "KEY_HEADER",
    "KEY_PATTERN",
    "MAX_KEY_LENGTH",
    "REPLAYED_HEADER",
    "Claim",
    "ClaimLost",
    "PendingAnswer",
    "StoredAnswer",
    "check_key",
    "claim_in_transaction",
    "claim_key",
    "device_scope",
    "once",
    "person_scope",
    "release_key",
    "request_hash",
    "store_answer",
]
