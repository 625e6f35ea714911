"""The idempotency keys' rows: claiming a key (SQLite: in a transaction of its own, with a
lease; PostgreSQL: in the work's transaction, under an advisory lock), storing the first answer
under the claim's guard (also as a CTE of the work's own last statement), releasing a failed
claim, and purging old keys. The policy that uses them is `services.idempotency.once`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Select,
    Table,
    bindparam,
    delete,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kiosk_server.db import as_utc
from kiosk_server.models import IdempotencyKey
from kiosk_server.problems import ProblemError

LEASE = dt.timedelta(seconds=60)
"""SQLite: how long a claim stays `in_progress` before another request may take it over (a
crash). PostgreSQL knows at once (`lock_id`)."""
BUSY_RETRY_AFTER = 1
"""PostgreSQL: the seconds a retry is asked to wait while a live request works on its key."""
KEPT_FOR = dt.timedelta(days=1)
"""How long a key and its stored answer are kept."""


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
    advisory lock (`lock_id`, held to the end of that transaction), or say why not. A new key
    is inserted `in_progress`, visible to others only with the work's answer; a key found
    `in_progress` (left by a worker of another way of claiming) is taken over, since nobody
    else can hold its lock."""
    owner = secrets.token_hex(16)
    parameters = _claim_parameters(scope, key, request_hash, owner, now)
    parameters["lock_id"] = lock_id(scope, key)
    # The lock and the insert in one statement: one round trip on every money request.
    taken, inserted = (await session.execute(_locked_claim_statement(), parameters)).one()
    if not taken:
        raise ProblemError(
            "idempotency-in-progress",
            "The first request with this key is still being processed. Retry shortly.",
            retry_after=BUSY_RETRY_AFTER,
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


@functools.cache
def _locked_claim_statement() -> Any:
    """PostgreSQL: `WITH lock AS (SELECT pg_try_advisory_xact_lock(:lock_id) AS taken), claimed
    AS (INSERT INTO idempotency_keys ... SELECT ... FROM lock WHERE taken ON CONFLICT (scope,
    key) DO NOTHING RETURNING id) SELECT taken, (SELECT id FROM claimed) FROM lock`: the key's
    lock (`lock_id`) and, only if it was taken, the claim (`_claim_statement`), with the
    claim's bound parameters and `lock_id`. `taken` false: a live request holds the key; `id`
    null with the lock taken: the key was recorded before (the caller reads it, locked)."""
    lock = select(
        func.pg_try_advisory_xact_lock(bindparam("lock_id", type_=BigInteger)).label("taken")
    ).cte("lock")
    values = select(
        *(bindparam(name, type_=_KEYS.c[name].type) for name in _CLAIM_PARAMETERS),
        literal("in_progress", type_=_KEYS.c.state.type),
    ).where(lock.c.taken)
    claimed = (
        postgresql_insert(_KEYS)
        .from_select([*_CLAIM_PARAMETERS, "state"], values)
        .on_conflict_do_nothing(index_elements=["scope", "key"])
        .returning(_KEYS.c.id)
        .cte("claimed")
    )
    return select(lock.c.taken, select(claimed.c.id).scalar_subquery().label("id"))


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
