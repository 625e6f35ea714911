"""Idempotency keys: a request that moves money is applied at most once, whatever the retries.

Every money route goes through `once` (its FastAPI side, the header and the answer, is
`routes.idempotent`'s):

1. The `Idempotency-Key` header is required (400 `idempotency-key-missing`).
2. The key is claimed before the work starts. A key already recorded answers at once: a
   different request under the same key (method, path or body) → 422 `idempotency-key-reused`;
   the same request still running → 409 `idempotency-in-progress`; the same request completed →
   the stored status and body again, with `Idempotency-Replayed: true`.
   On **PostgreSQL** the claim is part of the work's own transaction (`claim_in_transaction`):
   the request first takes a transaction-level advisory lock on the key (`key_lock`), which it
   holds to its commit; a request that cannot take it answers `idempotency-in-progress` with
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
(whose person comes from the badge). They are kept a day (`purge_keys`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from pydantic import BaseModel
from sqlalchemy import Select, Table, bindparam, delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kiosk_server.clock import Clock
from kiosk_server.db import as_utc
from kiosk_server.models import IdempotencyKey
from kiosk_server.problems import ProblemError, problem_document

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"
LEASE = dt.timedelta(seconds=60)
"""SQLite: how long a claim stays `in_progress` before another request may take it over (a
crash). PostgreSQL knows at once (`key_lock`)."""
BUSY_RETRY_AFTER = 1
"""PostgreSQL: the seconds a retry is asked to wait while a live request works on its key."""
KEPT_FOR = dt.timedelta(days=1)
"""How long a key and its stored answer are kept."""
MAX_KEY_LENGTH = 255
WORK_ATTEMPTS = 3
"""Tries of the work when PostgreSQL reports a serialization failure or a deadlock."""
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})

ResultT = TypeVar("ResultT", bound=BaseModel)

KEY_PATTERN = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$"
"""Printable ASCII, no space at either end."""


@dataclass(frozen=True)
class StoredAnswer:
    """The first answer to a key: replayed to every retry."""

    status_code: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Claim:
    """The right to do a key's work, held by one request (`owner`) until it stores its answer."""

    id: int
    owner: str


class ClaimLost(Exception):
    """The claim's lease ran out and another request took the key over."""


@dataclass
class PendingAnswer:
    """Handed to the work of `once`: the claim and the status code of success, so that the
    work may store its answer in its own last statement (PostgreSQL: with `store_answer_cte`)
    rather than leave it to a statement of its own. The work sets `stored` when it did;
    otherwise `once` stores the answer after the work."""

    claim: Claim
    status_code: int
    stored: bool = False

    def parameters(self) -> dict[str, Any]:
        """The bound parameters of `store_answer_cte`."""
        return {
            "claim_id": self.claim.id,
            "claim_owner": self.claim.owner,
            "status_code": self.status_code,
        }


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


def _insert(dialect: str) -> Any:
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


async def claim_key(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    scope: str,
    key: str,
    request_hash: str,
    now: dt.datetime,
) -> Claim | StoredAnswer:
    """Claim the key for this request in a transaction of its own, or say why not (SQLite's
    way, where the lease stands in for a lock; on PostgreSQL `once` claims in the work's
    own transaction instead, `claim_in_transaction`).

    Returns a `Claim` (do the work), or the `StoredAnswer` of a completed first request; raises
    `idempotency-key-reused` or `idempotency-in-progress`."""
    owner = secrets.token_hex(16)
    async with session_factory() as session, session.begin():
        dialect = session.get_bind().dialect.name
        inserted = await session.scalar(
            _claim_statement(dialect), _claim_parameters(scope, key, request_hash, owner, now)
        )
        if inserted is not None:
            return Claim(id=int(inserted), owner=owner)

        row = await session.scalar(_row_for_update(scope, key))
        if row is None:  # Purged between the two statements: rare enough to ask for a retry.
            raise ProblemError("idempotency-in-progress", "Try again.", retry_after=1)
        return await _existing_key(
            session, row, request_hash=request_hash, owner=owner, now=now, owner_dead=False
        )


def _claim_parameters(
    scope: str, key: str, request_hash: str, owner: str, now: dt.datetime
) -> dict[str, Any]:
    """The bound parameters of `_claim_statement`: a new key, `in_progress`, owned by `owner`."""
    return {
        "scope": scope,
        "key": key,
        "request_hash": request_hash,
        "owner": owner,
        "created_at": now,
        "locked_until": now + LEASE,
    }


def _row_for_update(scope: str, key: str) -> Select[IdempotencyKey]:
    return (
        select(IdempotencyKey)
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        .with_for_update()
    )


async def _existing_key(
    session: AsyncSession,
    row: IdempotencyKey,
    *,
    request_hash: str,
    owner: str,
    now: dt.datetime,
    owner_dead: bool,
) -> Claim | StoredAnswer:
    """What a key already recorded means for this request (`row` locked in `session`).
    `owner_dead`: nobody can be working on it (PostgreSQL, the key's lock held)."""
    if as_utc(row.created_at) <= now - KEPT_FOR:
        # An expired key is forgotten: this request starts afresh under it.
        row.request_hash = request_hash
        row.state = "in_progress"
        row.status_code = None
        row.response_body = None
        row.created_at = now
    elif row.request_hash != request_hash:
        raise ProblemError(
            "idempotency-key-reused",
            "This idempotency key was used for a different request.",
        )
    elif row.state == "done":
        assert row.status_code is not None  # noqa: S101 - stored together with the state
        return StoredAnswer(status_code=row.status_code, body=dict(row.response_body or {}))
    elif not owner_dead and as_utc(row.locked_until) > now:
        wait = max(1, int((as_utc(row.locked_until) - now).total_seconds()))
        raise ProblemError(
            "idempotency-in-progress",
            "The first request with this key is still being processed. Retry shortly.",
            retry_after=min(wait, 5),
        )
    # Nobody works on the key any more: the first worker crashed (or is stuck); take it over.
    row.owner = owner
    row.locked_until = now + LEASE
    await session.flush()
    return Claim(id=row.id, owner=owner)


async def claim_in_transaction(
    session: AsyncSession, *, scope: str, key: str, request_hash: str, now: dt.datetime
) -> Claim | StoredAnswer:
    """PostgreSQL: claim the key in `session`'s transaction, the work's own, under the key's
    advisory lock (`key_lock`, held to the end of that transaction), or say why not. A new key
    is inserted `in_progress`, visible to others only with the work's answer; a key found
    `in_progress` (left by a worker of another way of claiming) is taken over, since nobody
    else can hold its lock."""
    if not await key_lock(session, scope=scope, key=key):
        raise ProblemError(
            "idempotency-in-progress",
            "The first request with this key is still being processed. Retry shortly.",
            retry_after=BUSY_RETRY_AFTER,
        )
    owner = secrets.token_hex(16)
    inserted = await session.scalar(
        _claim_statement("postgresql"), _claim_parameters(scope, key, request_hash, owner, now)
    )
    if inserted is not None:
        return Claim(id=int(inserted), owner=owner)
    row = await session.scalar(_row_for_update(scope, key))
    if row is None:  # pragma: no cover - the insert found it, and the lock keeps it
        raise ProblemError("idempotency-in-progress", "Try again.", retry_after=1)
    return await _existing_key(
        session, row, request_hash=request_hash, owner=owner, now=now, owner_dead=True
    )


def lock_id(scope: str, key: str) -> int:
    """The key's advisory lock: a signed 64-bit number from its scope and key (a collision
    only makes a retry wait a second)."""
    digest = hashlib.sha256(f"{scope}\n{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def key_lock(session: AsyncSession, *, scope: str, key: str) -> bool:
    """PostgreSQL: take the key's advisory lock in `session`'s transaction (starting it), held
    until it ends; True if taken, False if a live request holds it."""
    taken = await session.scalar(select(func.pg_try_advisory_xact_lock(lock_id(scope, key))))
    return bool(taken)


async def store_answer(
    session: AsyncSession, claim: Claim, *, status_code: int, body: dict[str, Any]
) -> None:
    """Record the answer in the caller's transaction (the one that moved the money). Raises
    `ClaimLost` when the claim was taken over meanwhile: the caller must roll back."""
    result = await session.execute(
        _store_statement(),
        {
            "claim_id": claim.id,
            "claim_owner": claim.owner,
            "status_code": status_code,
            "response_body": body,
        },
    )
    if getattr(result, "rowcount", 0) != 1:
        raise ClaimLost


_KEYS = cast(Table, IdempotencyKey.__table__)
_CLAIM_PARAMETERS = ("scope", "key", "request_hash", "owner", "created_at", "locked_until")


@functools.cache
def _claim_statement(dialect: str) -> Any:
    """`INSERT INTO idempotency_keys ... ON CONFLICT (scope, key) DO NOTHING RETURNING id`: a new
    key recorded `in_progress`, with bound parameters `scope`, `key`, `request_hash`, `owner`,
    `created_at` and `locked_until`.

    Built once per dialect, on the table rather than the model: building an insert with literal
    values and deriving its cache key on every request cost more CPU than running it."""
    return (
        _insert(dialect)(_KEYS)
        .values({name: bindparam(name, type_=_KEYS.c[name].type) for name in _CLAIM_PARAMETERS})
        .values(state="in_progress")
        .on_conflict_do_nothing(index_elements=["scope", "key"])
        .returning(_KEYS.c.id)
    )


def _guarded_store(response_body: Any) -> Any:
    """`UPDATE idempotency_keys SET state = 'done', status_code = :status_code, response_body =
    <response_body> WHERE id = :claim_id AND owner = :claim_owner AND state = 'in_progress'`:
    only the claim's owner can store, and only once. It updates no row when the claim was taken
    over, which the caller turns into `ClaimLost`."""
    return (
        update(_KEYS)
        .where(
            _KEYS.c.id == bindparam("claim_id", type_=_KEYS.c.id.type),
            _KEYS.c.owner == bindparam("claim_owner", type_=_KEYS.c.owner.type),
            _KEYS.c.state == "in_progress",
        )
        .values(
            state="done",
            status_code=bindparam("status_code", type_=_KEYS.c.status_code.type),
            response_body=response_body,
        )
    )


@functools.cache
def _store_statement() -> Any:
    """The guarded store (`_guarded_store`) of a body given as the bound parameter
    `response_body`.

    Built once, on the table: a plain Core update, without the ORM's bulk-update machinery."""
    return _guarded_store(bindparam("response_body", type_=_KEYS.c.response_body.type))


def store_answer_cte(body: Select[Any]) -> Any:
    """PostgreSQL: the guarded store (`_guarded_store`) as `stored AS (UPDATE ... SET
    response_body = (<body>) WHERE ... AND EXISTS (<body>) RETURNING id)`, a CTE of the work's
    last statement, with `PendingAnswer.parameters()`.

    `body` selects the answer's JSON (equal to the work's result as `model_dump(mode="json")`)
    from the CTE that wrote last: no row there, nothing written and nothing stored. The
    statement reads `stored`: a row written with none in `stored` means the claim was lost,
    and the work raises `ClaimLost`."""
    return (
        _guarded_store(body.scalar_subquery())
        .where(exists(body))
        .returning(_KEYS.c.id)
        .cte("stored")
    )


async def release_key(session_factory: async_sessionmaker[AsyncSession], claim: Claim) -> None:
    """Forget a claim whose work failed unexpectedly, so that a retry runs the work again."""
    async with session_factory() as session, session.begin():
        await session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.id == claim.id,
                IdempotencyKey.owner == claim.owner,
                IdempotencyKey.state == "in_progress",
            )
        )


async def purge_keys(session: AsyncSession, *, now: dt.datetime) -> int:
    """Delete keys older than a day (in the caller's transaction); returns how many."""
    result = await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at <= now - KEPT_FOR)
    )
    return int(getattr(result, "rowcount", 0) or 0)


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
