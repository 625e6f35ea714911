"""FastAPI dependencies: the request's database session, its device, its person, the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.clock import Clock
from kiosk_server.db import holds_connection, read_outside_transaction
from kiosk_server.fields import MAX_ID
from kiosk_server.models import Device
from kiosk_server.problems import ProblemError
from kiosk_server.security import Argon2, sha256_hex
from kiosk_server.services import auth
from kiosk_server.services.devices import DeviceCache, detach, device_by_key

_device_key_header = APIKeyHeader(
    name="X-Device-Key", auto_error=False, description="The enrolled device's key."
)
_bearer = HTTPBearer(auto_error=False, description="A person's session token.")


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, committed when the route returns (before the answer is sent),
    rolled back when it raises.

    A session that took no connection and has nothing to write (a signed-in person's reads
    answered from what `current_device` read, `direct_reads`) has nothing to commit and is
    closed without a wait: committing and closing it cost 90 µs of the 480 of `GET /v1/me`,
    most of it the task `AsyncSession` closes in."""
    session: AsyncSession = request.app.state.session_factory()
    try:
        yield session
        if holds_connection(session) or session.new or session.dirty or session.deleted:
            await session.commit()
    finally:
        if holds_connection(session):
            # Closed as `AsyncSession`'s own exit closes it: to the end, even when the request
            # is cancelled meanwhile, so that the connection is back in its pool before the
            # request is over (a close left to finish on its own could hand it to a pool the
            # app has disposed of since, and hang the loop's shutdown).
            async with session:
                pass
        else:
            session.sync_session.close()  # no connection to hand back: nothing to wait for


# `scope="function"`: the commit must happen before the client sees the answer.
DbSession = Annotated[AsyncSession, Depends(db_session, scope="function")]


ResourceId = Annotated[int, Path(ge=1, le=MAX_ID, description="A record's id (64-bit).")]
"""The id of a record in a route's path: any other integer is refused with `validation-failed`
(SQLite and PostgreSQL hold 64-bit ids, and a larger one would not fit a query)."""


# `async def`, though they do not wait: FastAPI runs a plain `def` dependency in its thread
# pool, a thread hop per request for reading an attribute.
async def clock(request: Request) -> Clock:
    current: Clock = request.app.state.clock
    return current


async def argon2(request: Request) -> Argon2:
    hasher: Argon2 = request.app.state.argon2
    return hasher


ClockDep = Annotated[Clock, Depends(clock)]
Argon2Dep = Annotated[Argon2, Depends(argon2)]


async def current_device(
    request: Request,
    session: DbSession,
    key: Annotated[str | None, Depends(_device_key_header)],
) -> Device:
    """The device whose key the request carries (from the worker's `DeviceCache` when it holds
    it). When the request also carries a person's bearer token, their session and account are
    read too, for `current_person`: straight on the driver for a cached device
    (`direct_reads`), else in the same statement as the device."""
    if not key:
        raise ProblemError("device-key-missing", "Send the device key in X-Device-Key.")
    cache: DeviceCache = request.app.state.device_cache
    key_hash = sha256_hex(key)
    cached = cache.get(key_hash)
    # The bearer token is read here without declaring it: only the routes of a person
    # (`current_person`) say in the API document that they take one.
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    if scheme.lower() != "bearer" or not token:
        token = ""
    if cached is not None and not token:
        return cached
    if cached is not None:
        # Straight on the driver (`direct_reads`): every request of a signed-in person reads it.
        request.state.person_session = await auth.person_session_on(
            session, request.app.state.direct_reader, device=cached, token=token
        )
        return cached
    # Read outside a transaction, then hand the connection back: the route's own work starts
    # a transaction of its own.
    await read_outside_transaction(session)
    if token:
        device, person_session, account = await auth.device_and_person_session(
            session, key=key, token=token
        )
        request.state.person_session = (person_session, account)
    else:
        device = await device_by_key(session, key)
    await session.commit()
    if device is None:
        raise ProblemError("device-key-invalid", "This device key is unknown or revoked.")
    # Detached whether it is cached or not (the cache off), so that every request sees its
    # device the same way.
    detach(session, device)
    cache.put(key_hash, device)
    return device


CurrentDevice = Annotated[Device, Depends(current_device)]


def require_role(*roles: str) -> Callable[[Device], Awaitable[Device]]:
    """A dependency that lets only devices of these roles through."""

    async def check(device: CurrentDevice) -> Device:
        if device.role not in roles:
            raise _role_forbidden()
        return device

    return check


def _role_forbidden() -> ProblemError:
    return ProblemError("device-role-forbidden", "This device may not use this route.")


Terminal = Annotated[Device, Depends(require_role("terminal"))]


async def current_person(
    request: Request,
    device: CurrentDevice,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> auth.SignedInPerson:
    """The person signed in on this device (a terminal) with the bearer token the request
    carries. The role and the clock are checked and read here rather than through `Terminal`
    and `ClockDep`: every request of a person solves this, and each dependency solved costs
    as much as reading the person (bench/me_latency)."""
    if device.role != "terminal":
        raise _role_forbidden()
    if credentials is None or not credentials.credentials:
        raise ProblemError("session-missing", "Sign in first.")
    # Read by `current_device` from the same header.
    person_session, account = request.state.person_session
    clock: Clock = request.app.state.clock
    return auth.signed_in_person(
        device=device, person_session=person_session, account=account, now=clock.now()
    )


CurrentPerson = Annotated[auth.SignedInPerson, Depends(current_person)]
